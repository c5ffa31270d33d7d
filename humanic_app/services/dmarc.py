"""Whether the From domain publishes a DMARC record (Gmail and Yahoo require one of bulk senders), looked
up in DNS with dnspython. A warning, never a refusal: a lookup that fails or times out says the check could
not run and blocks nothing. Answers are kept a few minutes so the campaign page stays fast.

DMARC policy discovery (RFC 7489 §6.6.3): `_dmarc.<From domain>`, else `_dmarc.<organisational domain>`.
The organisational domain is approximated by the last two labels (no public suffix list): for a domain
under a two-label suffix (example.co.uk) only the exact name is then looked at, which can only warn more."""

from __future__ import annotations

import dataclasses
import enum
import threading
import time
from collections.abc import Callable

import dns.exception
import dns.nameserver
import dns.resolver

from humanic_app.services import domains

# A name's TXT strings; [] when the name or its TXT records do not exist. Anything else it raises means
# the question could not be answered (timeout, no server answering, …).
TxtLookup = Callable[[str], list[str]]

LOOKUP_SECONDS = 2.0
ANSWER_TTL_SECONDS = 300.0
FAILURE_TTL_SECONDS = 30.0


class DmarcStatus(str, enum.Enum):
    found = "found"
    missing = "missing"
    unknown = "unknown"  # the lookup failed: nothing is known either way


@dataclasses.dataclass(frozen=True)
class DmarcCheck:
    domain: str
    status: DmarcStatus
    record_name: str  # the record to add when missing
    record_value: str
    found: str = ""  # the record published, when found
    reason: str = ""  # why the lookup could not run

    @property
    def record(self) -> str:
        """The record to add, as one line to copy into a DNS zone."""
        return f'{self.record_name} TXT "{self.record_value}"'


def _organisational(domain: str) -> str:
    return ".".join(domain.split(".")[-2:])


def _policy(texts: list[str]) -> str | None:
    """The one DMARC record among a name's TXT strings; several are invalid, as none (RFC 7489 §6.6.3)."""
    records = [t for t in texts if t.strip().startswith("v=DMARC1")]
    return records[0] if len(records) == 1 else None


class DmarcChecker:
    def __init__(
        self,
        lookup: TxtLookup,
        *,
        ttl: float = ANSWER_TTL_SECONDS,
        failure_ttl: float = FAILURE_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._lookup, self._ttl, self._failure_ttl, self._monotonic = lookup, ttl, failure_ttl, monotonic
        self._cache: dict[str, tuple[float, DmarcStatus, str, str]] = {}
        self._lock = threading.Lock()

    def check(self, *, domain: str, report_to: str) -> DmarcCheck:
        """The DMARC record of `domain`; `report_to` goes in the suggested record's aggregate reports."""
        domain = domain.strip().lower().rstrip(".")
        suggested = domains.dmarc_record(domain, report_to=report_to)
        status, found, reason = self._answer(domain)
        return DmarcCheck(
            domain=domain,
            status=status,
            record_name=suggested["name"],
            record_value=suggested["value"],
            found=found,
            reason=reason,
        )

    def _answer(self, domain: str) -> tuple[DmarcStatus, str, str]:
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(domain)
        if cached and cached[0] > now:
            return cached[1], cached[2], cached[3]
        status, found, reason = self._ask(domain)
        ttl = self._failure_ttl if status == DmarcStatus.unknown else self._ttl
        with self._lock:
            self._cache[domain] = (now + ttl, status, found, reason)
        return status, found, reason

    def _ask(self, domain: str) -> tuple[DmarcStatus, str, str]:
        names = [domain] + ([_organisational(domain)] if _organisational(domain) != domain else [])
        for name in names:
            try:
                texts = self._lookup(f"_dmarc.{name}")
            except Exception as exc:  # any failure of the lookup is "could not check", never an error
                return DmarcStatus.unknown, "", _failure(exc)
            if (record := _policy(texts)) is not None:
                return DmarcStatus.found, record, ""
        return DmarcStatus.missing, "", ""


def _failure(exc: Exception) -> str:
    if isinstance(exc, dns.exception.Timeout):
        return "the DNS lookup timed out"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "no DNS server answered"
    return f"the DNS lookup failed ({type(exc).__name__})"


def dns_lookup(nameservers: tuple[str, ...] = (), *, lifetime: float = LOOKUP_SECONDS) -> TxtLookup:
    """TXT lookups through the system's resolvers, or through `nameservers` ("ip" or "ip:port")."""
    resolver = dns.resolver.Resolver(configure=not nameservers)
    if nameservers:
        servers: list[str | dns.nameserver.Nameserver] = []
        for server in nameservers:
            host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
            servers.append(dns.nameserver.Do53Nameserver(host, int(port) if port else 53))
        resolver.nameservers = servers
    resolver.lifetime = lifetime

    def lookup(name: str) -> list[str]:
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]

    return lookup


_default: DmarcChecker | None = None
_default_lock = threading.Lock()


def default_checker() -> DmarcChecker:
    """The process's checker (one cache shared by the pages and the API), on HUMANIC_DNS_NAMESERVERS."""
    global _default
    from humanic_app.settings import get_settings

    with _default_lock:
        if _default is None:
            _default = DmarcChecker(dns_lookup(get_settings().dns_nameservers))
        return _default
