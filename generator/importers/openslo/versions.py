"""The OpenSLO versions read: `openslo/v1`, and `openslo/v1alpha` (the one Sloth reads), with the kinds
of object they define."""

API_V1 = "openslo/v1"
API_V1ALPHA = "openslo/v1alpha"
KNOWN_KINDS = (
    "SLO",
    "SLI",
    "Service",
    "DataSource",
    "AlertPolicy",
    "AlertCondition",
    "AlertNotificationTarget",
)
