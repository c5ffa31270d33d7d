"""Page URLs, in one place so links and redirects cannot drift."""

SIGN_IN = "/signin"
CHOOSE_PASSWORD = "/password"  # where an invited user replaces the temporary password
DASHBOARD = "/"
INTEGRATIONS = "/integrations"
EVENT_LOG = "/events"
CAMPAIGNS = "/campaigns"
CONTACTS = "/contacts"
MESSAGES = "/messages"
DOMAINS = "/domains"
SETTINGS = "/settings"
