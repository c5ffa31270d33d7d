"""Everything the UI can do, the API can do: every event handler of every page state is either mapped to the
API route that does the same, or listed as UI-only with the reason. A new handler fails this test until it is
one or the other, and a mapped route that does not exist fails it too."""

import importlib
import pkgutil

import reflex as rx

import humanic_app.state
from humanic_app.api import build_api

SENDING = "/api/v1/settings/sending"
SETTINGS, SOURCE, CAMPAIGN = "/api/v1/settings", "/api/v1/sources/{source_id}", "/api/v1/campaigns/{campaign_id}"

# handler → the route doing the same thing
API_ROUTE = {
    "SettingsState.load": ("GET", SETTINGS),
    "SettingsState.save": ("PUT", SETTINGS),
    "SettingsState.set_paused": ("PUT", SETTINGS),  # {"status": "paused" | "active"}
    "SettingsState.resume_sending": ("POST", "/api/v1/settings/resume-sending"),
    "SettingsState.invite": ("POST", "/api/v1/users"),
    "SettingsState.create_api_key": ("POST", "/api/v1/api-keys"),
    "SettingsState.revoke_api_key": ("DELETE", "/api/v1/api-keys/{api_key_id}"),
    "IntegrationsState.load": ("GET", "/api/v1/sources"),
    "IntegrationsState.select_source": ("GET", SOURCE),
    "IntegrationsState.connect": ("POST", "/api/v1/sources"),
    "IntegrationsState.regenerate": ("POST", SOURCE + "/rotate"),
    "IntegrationsState.set_active": ("POST", SOURCE + "/activate"),  # and /pause
    "IntegrationsState.save_mapping": ("PUT", SOURCE + "/mapping"),
    "IntegrationsState.preview_draft": ("POST", SOURCE + "/mapping/preview"),
    "IntegrationsState.save_security": ("PUT", SOURCE + "/security"),
    "IntegrationsState.send_sample": ("POST", SOURCE + "/send-sample"),
    "IntegrationsState.poll": ("GET", "/api/v1/events"),
    "IntegrationsState.rename_source": ("PATCH", SOURCE),
    "IntegrationsState.delete_source": ("DELETE", SOURCE),
    "SettingsState.change_password": ("POST", "/api/v1/me/password"),
    "AuthState.choose_password": ("POST", "/api/v1/me/password"),  # an invited user's first own password
    "EventLogState.load": ("GET", "/api/v1/events"),
    "EventLogState.apply_filters": ("GET", "/api/v1/events"),
    "EventLogState.set_source_filter": ("GET", "/api/v1/events"),
    "EventLogState.set_outcome_filter": ("GET", "/api/v1/events"),
    "EventLogState.newest": ("GET", "/api/v1/events"),
    "EventLogState.older": ("GET", "/api/v1/events"),
    "EventLogState.newer": ("GET", "/api/v1/events"),  # an API client pages back with the cursors it kept
    "EventLogState.clear_filters": ("GET", "/api/v1/events"),
    "EventLogState.poll": ("GET", "/api/v1/events"),
    "EventLogState.open_detail": ("GET", "/api/v1/events/{event_id}"),
    "ContactsState.load": ("GET", "/api/v1/contacts"),
    "ContactsState.search": ("GET", "/api/v1/contacts"),
    "ContactsState.older": ("GET", "/api/v1/contacts"),
    "ContactsState.open_contact": ("GET", "/api/v1/contacts/{contact_id}"),
    "ContactsState.suppress": ("POST", "/api/v1/suppressions"),
    "ContactsState.unsuppress": ("DELETE", "/api/v1/suppressions/{email}"),
    "ContactPrivacyState.load_page": ("GET", "/api/v1/contacts"),
    "ContactPrivacyState.export_contact": ("GET", "/api/v1/contacts/{contact_id}/export"),
    "ContactPrivacyState.erase_contact": ("DELETE", "/api/v1/contacts/{contact_id}"),
    "TopicsState.load_topics": ("GET", "/api/v1/topics"),
    "TopicsState.add_topic": ("POST", "/api/v1/topics"),
    "TopicsState.rename_topic": ("PATCH", "/api/v1/topics/{topic_id}"),
    "TopicsState.delete_topic": ("DELETE", "/api/v1/topics/{topic_id}"),
    "TopicsState.load_contact_topics": ("GET", "/api/v1/contacts/{contact_id}/preferences"),
    "CampaignsState.load": ("GET", "/api/v1/campaigns"),
    "CampaignsState.edit": ("GET", CAMPAIGN),
    "CampaignsState.save": ("PUT", CAMPAIGN),  # POST /api/v1/campaigns for a new one
    "CampaignsState.change_status": ("POST", CAMPAIGN + "/activate"),  # and /pause, /archive
    "CampaignsState.new_from_template": ("GET", "/api/v1/campaign-templates"),
    "CampaignsState.import_yaml": ("POST", "/api/v1/campaigns"),  # the same document, as JSON
    "CampaignsState.handle_upload": ("POST", "/api/v1/campaigns"),
    "CampaignsState.download_yaml": ("GET", CAMPAIGN),
    "CampaignsState.render_preview": ("POST", CAMPAIGN + "/preview"),
    "CampaignsState.set_preview": ("POST", CAMPAIGN + "/preview"),
    "CampaignsState.run_dry_run": ("POST", CAMPAIGN + "/dry-run"),
    "CampaignsState.send_test": ("POST", CAMPAIGN + "/test-send"),
    "CampaignsState.refresh_counts": ("GET", CAMPAIGN + "/journey"),
    "CampaignsState.poll_counts": ("GET", CAMPAIGN + "/journey"),  # the same counts, read on a timer
    "CampaignsState.confirm_save": ("PUT", CAMPAIGN),
    "ActivationState.check": ("GET", CAMPAIGN + "/readiness"),  # after POST …/edit-preview said what happens
    "MessagesState.load": ("GET", "/api/v1/messages"),
    "MessagesState.refresh": ("GET", "/api/v1/messages"),
    "MessagesState.search": ("GET", "/api/v1/messages"),
    "MessagesState.set_status_filter": ("GET", "/api/v1/messages"),
    "MessagesState.open_message": ("GET", "/api/v1/messages/{message_id}"),
    "MessagesState.act": ("POST", "/api/v1/messages/{message_id}/cancel"),  # and /retry
    "DomainsState.load": ("GET", "/api/v1/domains"),
    "SendingState.load_sending": ("GET", SENDING),
    "SendingState.save_key": ("PUT", SENDING),
    "SendingState.test_connection": ("POST", SENDING + "/test"),
    "SendingState.register_webhook": ("POST", SENDING + "/webhook"),
    "SendingState.remove_key": ("DELETE", SENDING),
    "PosthogState.load_posthog": ("GET", "/api/v1/settings/posthog"),
    "PosthogState.save_posthog": ("PUT", "/api/v1/settings/posthog"),
    "PosthogState.remove_posthog": ("DELETE", "/api/v1/settings/posthog"),
    "PosthogAccessState.load_access": ("GET", "/api/v1/settings/posthog"),
    "PosthogAccessState.save_access": ("PUT", "/api/v1/settings/posthog"),  # {"personal_api_key", "project_id"}
    "BackfillState.load_backfill": ("GET", "/api/v1/campaigns"),  # the names the active campaigns read
    "BackfillState.dry_run_backfill": ("POST", "/api/v1/posthog/backfill"),  # {"dry_run": true}
    "BackfillState.import_backfill": ("POST", "/api/v1/posthog/backfill"),  # {"dry_run": false, "fire_emails"}
    "BackfillState.continue_backfill": ("POST", "/api/v1/posthog/backfill"),  # "since": the answer's resume_since
    "PosthogPullState.load_pull": ("GET", "/api/v1/settings/posthog"),
    "PosthogPullState.save_pull": ("PUT", "/api/v1/settings/posthog"),  # {"pull_enabled", "pull_interval_seconds", …}
    "CohortsState.load_cohorts": ("GET", "/api/v1/posthog/cohorts/imported"),
    "CohortsState.show_posthog_cohorts": ("GET", "/api/v1/posthog/cohorts"),
    "CohortsState.import_cohort": ("POST", "/api/v1/posthog/cohorts/{posthog_id}/sync"),
    "CohortsState.import_and_keep_cohort": ("POST", "/api/v1/posthog/cohorts/{posthog_id}/sync"),
    "CohortsState.sync_cohort_now": ("POST", "/api/v1/posthog/cohorts/{posthog_id}/sync"),
    "CohortsState.set_cohort_kept": ("PUT", "/api/v1/posthog/cohorts/{posthog_id}/schedule"),
    "CohortsState.remove_cohort": ("DELETE", "/api/v1/posthog/cohorts/{posthog_id}"),
    "BrandSettingsState.load_brand": ("GET", "/api/v1/settings/brand"),
    "BrandSettingsState.save_brand": ("PUT", "/api/v1/settings/brand"),
    "RetentionSettingsState.load_retention": ("GET", SETTINGS),
    "RetentionSettingsState.save_retention": ("PUT", SETTINGS),  # {"retention_days": 30}
    "QuietHoursSettingsState.load_quiet_hours": ("GET", SETTINGS),
    "QuietHoursSettingsState.save_quiet_hours": ("PUT", SETTINGS),  # {"quiet_hours": {"between": […]}}
    "DomainsState.add": ("POST", "/api/v1/domains"),
    "DomainsState.verify": ("POST", "/api/v1/domains/{domain_id}/verify"),
    "ReputationState.load": ("GET", "/api/v1/reputation"),
    "ReputationState.save_thresholds": ("PUT", "/api/v1/reputation/thresholds"),
    "ReputationState.resume": ("POST", CAMPAIGN + "/activate"),  # all sending: POST /api/v1/settings/resume-sending
    "WarmupState.load": ("GET", "/api/v1/domains"),
    "WarmupState.switch": ("PATCH", "/api/v1/domains/{domain_id}/warmup"),
    "WarmupState.save_ladder": ("PATCH", "/api/v1/domains/{domain_id}/warmup"),
    "DesignGalleryState.open_designs": ("GET", "/api/v1/email-designs"),
    "SharedBlocksState.load_shared_blocks": ("GET", "/api/v1/partials"),
    "SharedBlocksState.save_shared_block": ("PUT", "/api/v1/partials/{name}"),
    "SharedBlocksState.delete_shared_block": ("DELETE", "/api/v1/partials/{name}"),
}

_EDITING = "edits the builder's unsaved document; the API takes the whole document on save"
UI_ONLY = {
    "AuthState.sign_in": "the browser's sign-in; the API authenticates every request with a key",
    "AuthState.sign_out": "ends the browser's sign-in",
    "AuthState.create_owner": "first-run sign-up, before any key can exist (or `create-user` on the CLI)",
    "AuthState.load_sign_in": "the sign-in page's loader",
    "AuthState.load_choose_password": "the choose-a-password page's loader",
    "AuthState.require_user": "every page's sign-in guard; the API checks each request",
    "DashboardState.load": "charts; their numbers are in /metrics and /api/v1/diagnostics",
    "DashboardState.set_range": "which period the charts show",
    "IntegrationsState.note_copied": "says 'Copied' after the copy button",
    "IntegrationsState.toggle_steps": "folds or unfolds the setup steps of a live source",
    "EventLogState.toggle_live": "whether the open page follows new events",
    "EventLogState.close_detail": "closes a panel",
    "CampaignsState.close_builder": "closes a panel",
    "CampaignsState.set_preview_view": "the preview frame's width and colour scheme; the API answers the HTML",
    "CampaignsState.set_dry_run_days": "a form field",
    "CampaignsState.set_test_to": "a form field",
    "CampaignsState.cancel_save": "closes what an edit of a live journey would do (POST …/edit-preview)",
    "DesignGalleryState.close_designs": "closes a panel",
    "DesignGalleryState.use_design": _EDITING + " (a design's subject and blocks come from GET /api/v1/email-designs)",
    **{
        f"CampaignsState.{name}": _EDITING
        for name in (
            "add_block",
            "add_column_block",
            "add_condition",
            "add_filter",
            "add_into_path",
            "add_node",
            "add_path",
            "add_path_condition",
            "remove_filter",
            "remove_path",
            "remove_path_condition",
            "set_filter",
            "set_path",
            "set_path_condition",
            "move_block",
            "move_step",
            "remove_block",
            "remove_condition",
            "remove_step",
            "set_block",
            "set_condition",
            "insert_variable",
            "set_step",
            "set_text",
        )
    },
}
GENERATED = {"setvar"}  # Reflex's own setter on every state, for form fields


def _page_states() -> list[type]:
    for module in pkgutil.iter_modules(humanic_app.state.__path__):
        importlib.import_module(f"humanic_app.state.{module.name}")
    found, todo = [], [rx.State]
    while todo:
        state = todo.pop()
        todo.extend(state.__subclasses__())
        if state.__module__.startswith("humanic_app.state."):
            found.append(state)
    return found


def _handlers() -> set[str]:
    return {
        f"{state.__name__}.{name}" for state in _page_states() for name in state.event_handlers if name not in GENERATED
    }


def test_every_ui_action_has_an_api_route_or_a_reason():
    handlers = _handlers()
    assert len(handlers) > 60  # all page states were found
    unmapped = handlers - API_ROUTE.keys() - UI_ONLY.keys()
    assert not unmapped, f"UI actions with no API route (add one, or list it in UI_ONLY with why): {sorted(unmapped)}"
    assert not API_ROUTE.keys() & UI_ONLY.keys()
    assert not (API_ROUTE.keys() | UI_ONLY.keys()) - handlers, "entries for handlers that no longer exist"


def test_every_mapped_route_exists():
    routes = {
        (method.upper(), path) for path, operations in build_api().openapi()["paths"].items() for method in operations
    }
    missing = {handler: route for handler, route in API_ROUTE.items() if route not in routes}
    assert not missing, f"mapped to routes the API does not have: {missing}"
