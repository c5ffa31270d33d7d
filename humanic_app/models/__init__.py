"""SQLModel tables, one module per noun. Importing this package registers every table on the metadata."""

from sqlmodel import SQLModel

from humanic_app.models.campaign import (
    CAMPAIGN_TRANSITIONS,
    Campaign,
    CampaignStatus,
    Enrolment,
    EnrolmentStatus,
    TimedOutWait,
)
from humanic_app.models.contact import Contact, ContactIdentity, IdentityKind
from humanic_app.models.domain import DOMAIN_STATUS_LABELS, Domain
from humanic_app.models.event import Event, EventOutcome, InboxCursor
from humanic_app.models.lease import Lease
from humanic_app.models.message import Message, MessageStatus
from humanic_app.models.posthog import PosthogCapture, PosthogCohort, PosthogCohortMember, PosthogConnection
from humanic_app.models.reputation import WORKSPACE_SCOPE, RateWindow
from humanic_app.models.retention import RetentionState
from humanic_app.models.sending import KeyAccess, SendingCredentials
from humanic_app.models.sign_in_attempt import SignInAttempt
from humanic_app.models.source import SOURCE_STATUS_LABELS, Source, SourceStatus
from humanic_app.models.stat import Stat
from humanic_app.models.suppression import DeliveryEvent, Suppression, SuppressionReason
from humanic_app.models.topic import TRANSACTIONAL, Topic, TopicOptOut
from humanic_app.models.user import ApiKey, User, UserRole, UserSession
from humanic_app.models.workspace import Workspace, WorkspaceStatus

metadata = SQLModel.metadata

__all__ = [
    "CAMPAIGN_TRANSITIONS",
    "DOMAIN_STATUS_LABELS",
    "SOURCE_STATUS_LABELS",
    "TRANSACTIONAL",
    "WORKSPACE_SCOPE",
    "ApiKey",
    "Campaign",
    "CampaignStatus",
    "Contact",
    "ContactIdentity",
    "DeliveryEvent",
    "Domain",
    "Enrolment",
    "EnrolmentStatus",
    "Event",
    "EventOutcome",
    "IdentityKind",
    "InboxCursor",
    "KeyAccess",
    "Lease",
    "Message",
    "MessageStatus",
    "PosthogCapture",
    "PosthogCohort",
    "PosthogCohortMember",
    "PosthogConnection",
    "RateWindow",
    "RetentionState",
    "SendingCredentials",
    "SignInAttempt",
    "Source",
    "SourceStatus",
    "Stat",
    "Suppression",
    "SuppressionReason",
    "TimedOutWait",
    "Topic",
    "TopicOptOut",
    "User",
    "UserRole",
    "UserSession",
    "Workspace",
    "WorkspaceStatus",
    "metadata",
]
