"""The per-request context: settings, DataLoaders and (once signed in) the session."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from service.accounts.principal import Principal
from service.config import Settings
from schema.auth import client_address
from schema.accounts.dataloaders import AccountLoaders
from schema.approvals.dataloaders import ApprovalLoaders
from schema.catalogue.loaders import CatalogueLoaders


@dataclass
class Context:
    request: Request
    response: Response
    settings: Settings
    loaders: CatalogueLoaders = field(init=False)
    account_loaders: AccountLoaders = field(init=False)
    approval_loaders: ApprovalLoaders = field(init=False)
    principal: Principal | None = None

    def __post_init__(self) -> None:
        self.loaders = CatalogueLoaders(self)
        self.account_loaders = AccountLoaders()
        self.approval_loaders = ApprovalLoaders()

    @property
    def client_address(self) -> str | None:
        """The one place throttling takes the client's address from (see schema.auth.client_address)."""
        return client_address(self.request)
