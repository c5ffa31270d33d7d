"""SQLModel tables, one module per noun. Importing this package registers every table on the metadata."""

from sqlmodel import SQLModel

from humanic_app.models.user import ApiKey, User, UserRole, UserSession
from humanic_app.models.workspace import Workspace, WorkspaceStatus

metadata = SQLModel.metadata

__all__ = ["ApiKey", "User", "UserRole", "UserSession", "Workspace", "WorkspaceStatus", "metadata"]
