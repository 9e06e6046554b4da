# slodrift exporter: publishes the release baseline (and stability scores) for Prometheus to scrape.
#   docker build -t slodrift-exporter .
#   docker run -p 9877:9877 -v "$PWD/examples:/etc/slodrift:ro" slodrift-exporter \
#     --config.file=/etc/slodrift/checkout.yml --baseline.file=/etc/slodrift/baseline.json
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY generator ./generator
COPY exporter ./exporter
COPY report ./report
COPY demo ./demo
COPY slodrift ./slodrift
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="slodrift-exporter" \
      org.opencontainers.image.description="Release baseline and stability scores for Prometheus" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin slodrift
USER 10001:10001
EXPOSE 9877
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9877/-/healthy', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["slodrift-exporter"]
CMD ["--config.file=/etc/slodrift/spec.yml", "--baseline.file=/etc/slodrift/baseline.json"]
