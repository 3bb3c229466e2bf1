"""Settings, read from environment variables (prefix TIPTRIAGE_). The only module-level state."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIPTRIAGE_")

    # Embedded default: a SQLite file under ./var, nothing to start.
    database_url: str = "sqlite:///var/tiptriage.db"
    # Who is acting, for the audit log, when no authenticated user is known (CLI, batch jobs): a user
    # id, normalised (accounts/actor.py); with an accounts file (YAML: accounts: [{id, name, roles,
    # units}]) it must have an account there and acts with its roles; without one it has every role.
    actor: str = "cli"
    accounts_file: str | None = None
    # A single input file larger than this is refused before parsing (bytes).
    max_file_bytes: int = 50 * 1024 * 1024
    # Reports stored per transaction during ingest; each report is still all-or-nothing.
    ingest_batch_size: int = 2000
    # Processes that parse input files while the main process stores (1 = parse in-process).
    ingest_workers: int = Field(default_factory=lambda: min(4, os.cpu_count() or 1))
    # PDQ: a match is a Hamming distance at most this (Meta's confident-match threshold is 31).
    pdq_max_distance: int = Field(31, ge=0, le=128)
    # PDQ hashes of lower quality describe flat or featureless images: not matched, marked so.
    pdq_min_quality: int = Field(50, ge=0, le=100)
    # Where the PDQ index lives; empty: next to the SQLite file, or under var/ for PostgreSQL.
    pdq_index_dir: Path | None = None
    # Files matched per transaction (a full re-match walks every stored file in such steps).
    match_batch_files: int = Field(2000, ge=1)
    # Triage: the policy file (empty: the packaged nl-2023 policy), the country whose reports are
    # ours, the age under which a subject takes the youth track, and an IP → country table (CSV:
    # network,country) that places IP addresses (empty: IP addresses place no one).
    policy_file: str | None = None
    jurisdiction: str = "NL"
    youth_age: int = 18
    ip_countries_file: str | None = None
    # Triage: services and their kind (CSV service,kind); empty: the packaged triage/services.csv.
    services_file: str | None = None
    # Registry: how long a delivered warning stays active (years).
    warning_active_years: int = 5
    # Operations: units, weekly capacity and costs (empty: the packaged units.yaml); postcodes per unit
    # (CSV postcode,unit; empty: the packaged approximation postcodes.csv), places an estimated
    # location names (CSV place,unit; empty: the packaged places.csv) and IP networks per unit (CSV
    # network,unit; empty: IP addresses place no one in a unit).
    units_file: str | None = None
    postcodes_file: str | None = None
    places_file: str | None = None
    ip_units_file: str | None = None
    # Statistics and the evaluation of warnings: counts from 1 to this minus one leave the unit as
    # "<N" (a count of 1 in a small municipality identifies a person).
    stats_min_cell: int = Field(5, ge=1)
    # Web application: the key that signs session cookies, in a file only its owner may read
    # (made on first start when missing; empty: next to the SQLite file, or under var/); logout
    # after this many idle minutes; cookies only over HTTPS (off only for a local demo over http).
    web_secret_file: str | None = None
    web_idle_minutes: int = Field(30, ge=1)
    web_secure_cookies: bool = True
    # Web application, optional login through the unit's identity provider (OpenID Connect, Authlib):
    # off while no client id is set. The provider's discovery document (default: the issuer's
    # /.well-known/openid-configuration), the client's id and secret (the secret from a file only
    # its owner may read, or from the environment), the scopes asked, the claims holding the user
    # id and the groups, and which groups give which roles and which units ("*": every unit).
    oidc_issuer: str | None = None
    oidc_metadata_url: str | None = None
    oidc_provider_name: str = "OpenID Connect"
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_client_secret_file: str | None = None
    oidc_scopes: str = "openid profile email"
    oidc_user_claim: str = "preferred_username"
    oidc_groups_claim: str = "groups"
    oidc_role_map: dict[str, list[str]] = Field(default_factory=dict)
    oidc_unit_map: dict[str, list[str]] = Field(default_factory=dict)
    # Audit log: the key of the chain (HMAC-SHA256), in a file only its owner may read, made on the
    # first event when missing (empty: audit.key next to the SQLite file, or under var/). Keep it
    # where the database's administrator cannot read it: whoever holds it can re-chain the log.
    audit_key_file: str | None = None
    # Log lines on stderr from this level on (DEBUG, INFO, WARNING, ERROR); they carry counts,
    # timings and ids, never personal data.
    log_level: str = Field("WARNING", pattern="^(DEBUG|INFO|WARNING|ERROR)$")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def sqlite_path(url: str) -> Path | None:
    """The file behind a sqlite URL, so its folder can be created; None for other databases."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and url[len(prefix):] not in ("", ":memory:"):
        return Path(url[len(prefix):])
    return None
