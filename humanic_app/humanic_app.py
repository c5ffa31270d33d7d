"""Wires pages, the HTTP API and background work into one Reflex app. Nothing else lives here."""

import reflex as rx

from humanic_app import browser_security, logs, routes, runtime, wiring
from humanic_app.background import background_worker
from humanic_app.pages.campaigns import campaigns_page
from humanic_app.pages.contacts import contacts_page
from humanic_app.pages.dashboard import dashboard_page
from humanic_app.pages.domains import domains_page
from humanic_app.pages.event_log import event_log_page
from humanic_app.pages.integrations import integrations_page
from humanic_app.pages.messages import messages_page
from humanic_app.pages.settings import settings_page
from humanic_app.pages.signin import choose_password_page, signin_page
from humanic_app.settings import get_settings
from humanic_app.state.auth import AuthState
from humanic_app.state.campaigns import CampaignsState
from humanic_app.state.contact_privacy import ContactPrivacyState
from humanic_app.state.dashboard import DashboardState
from humanic_app.state.domains import DomainsState
from humanic_app.state.event_log import EventLogState
from humanic_app.state.integrations import IntegrationsState
from humanic_app.state.messages import MessagesState
from humanic_app.state.settings import SettingsState

logs.configure(process="web")
app = rx.App(
    stylesheets=["/humanic.css"],
    api_transformer=[
        *wiring.api_transformers(),
        lambda asgi: browser_security.SecurityHeaders(asgi, public_url=get_settings().public_url),
    ],
)
# Reflex hands engine.io a fixed origin list; behind a proxy without a public URL the page's own host must pass too.
assert app.sio is not None  # Reflex makes the event socket server when the app is built with state
app.sio.eio.cors_allowed_origins = browser_security.socket_origin_check(
    list(rx.config.get_config().cors_allowed_origins)
)
app.register_lifespan_task(background_worker)

app.add_page(signin_page, route=routes.SIGN_IN, title="Sign in · Humanic", on_load=AuthState.load_sign_in)
app.add_page(
    choose_password_page,
    route=routes.CHOOSE_PASSWORD,
    title="Choose your password · Humanic",
    on_load=AuthState.load_choose_password,
)
protected = [
    (dashboard_page, routes.DASHBOARD, "Dashboard", DashboardState.load),
    (integrations_page, routes.INTEGRATIONS, "Integrations", IntegrationsState.load),
    (event_log_page, routes.EVENT_LOG, "Event Log", EventLogState.load),
    (campaigns_page, routes.CAMPAIGNS, "Campaigns", CampaignsState.load),
    (contacts_page, routes.CONTACTS, "Contacts", ContactPrivacyState.load_page),
    (messages_page, routes.MESSAGES, "Messages", MessagesState.load),
    (domains_page, routes.DOMAINS, "Domains", DomainsState.load),
    (settings_page, routes.SETTINGS, "Settings", SettingsState.load),
]
for page, route, title, loader in protected:
    app.add_page(
        page, route=route, title=f"{title} · Humanic", on_load=[AuthState.require_user] + ([loader] if loader else [])
    )

runtime.tune_garbage_collector()
