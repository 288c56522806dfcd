"""Salesforce connection settings from the environment and `.env` (prefix `SPM_SF_`).

Read only here, in the composition root, as `interfaces/settings.py` reads the rest. Secrets are
`SecretStr` (their repr is `**********`), and `secrets()` lists their values so the sync and
push commands can scrub them from anything they print or record.

Two ways to log in, picked by what is set:

- username-password: SPM_SF_USERNAME, SPM_SF_PASSWORD and SPM_SF_TOKEN (the security token;
  empty for an IP-allowlisted org), through Salesforce's SOAP login, or the OAuth password grant
  when SPM_SF_CLIENT_ID and SPM_SF_CLIENT_SECRET (a connected app) are also set;
- JWT bearer: SPM_SF_USERNAME, SPM_SF_CONSUMER_KEY and SPM_SF_PRIVATE_KEY_FILE (no password).

SPM_SF_DOMAIN is `login` (production, the default), `test` (a sandbox) or a My Domain prefix
(`acme.my`); SPM_SF_INSTANCE_URL (`https://acme.my.salesforce.com`) names the My Domain instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

AuthFlow = Literal["soap", "oauth-password", "jwt"]


class SalesforceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPM_SF_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    username: str | None = Field(None, description="Salesforce username of the integration user.")
    password: SecretStr | None = Field(None, description="Its password (username-password login).")
    token: SecretStr | None = Field(None, description="Its security token (username-password login).")
    client_id: str | None = Field(None, description="Connected app consumer key: OAuth password grant.")
    client_secret: SecretStr | None = Field(None, description="Connected app consumer secret: OAuth password grant.")
    consumer_key: str | None = Field(None, description="Connected app consumer key for the JWT bearer flow.")
    private_key_file: Path | None = Field(None, description="PEM private key whose certificate the app holds (JWT).")
    domain: str = Field("login", description="login (production), test (sandbox) or a My Domain prefix (acme.my).")
    instance_url: str | None = Field(None, description="My Domain URL, e.g. https://acme.my.salesforce.com.")
    api_version: str = Field("60.0", pattern=r"^\d+\.\d$", description="REST API version, e.g. 60.0.")
    bulk_threshold: int = Field(
        10_000, ge=0, description="Changed records above which an object is read with Bulk API 2.0."
    )
    forecasting_type: str = Field(
        "OpportunityRevenue",
        description="DeveloperName of the forecast type quotas are pushed to (Collaborative Forecasts).",
    )

    @property
    def flow(self) -> AuthFlow | None:
        if self.username and self.consumer_key and self.private_key_file:
            return "jwt"
        if self.username and self.password and self.client_id and self.client_secret:
            return "oauth-password"
        if self.username and self.password:
            return "soap"
        return None

    @property
    def login_domain(self) -> str:
        """The `{domain}` of `https://{domain}.salesforce.com` that simple-salesforce logs in at."""
        if self.instance_url:
            host = urlparse(self.instance_url if "//" in self.instance_url else f"https://{self.instance_url}").hostname
            if host and host.endswith(".salesforce.com"):
                return host.removesuffix(".salesforce.com")
        return self.domain

    def secrets(self) -> list[str]:
        """Every secret value set, to scrub from output, errors and the audit trail."""
        values = [s.get_secret_value() for s in (self.password, self.token, self.client_secret) if s is not None]
        if self.password is not None and self.token is not None:
            values.append(
                self.password.get_secret_value() + self.token.get_secret_value()
            )  # as the SOAP login sends it
        return [v for v in values if len(v) >= 4]  # a shorter value would scrub ordinary words


def salesforce_settings() -> SalesforceSettings:
    """Read afresh on each command (not cached): a long-lived process sees a rotated password."""
    return SalesforceSettings()
