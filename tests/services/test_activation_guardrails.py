"""Before activation: every way to active refuses a campaign without a verified From domain, a postal
address, or a working unsubscribe link and List-Unsubscribe headers in the email as sent — each refusal
naming its field and its fix — and warns (never refuses) when the From domain publishes no DMARC record."""

import dns.exception
import pytest

from humanic_app.models import CampaignStatus, Domain
from humanic_app.services import composing, dmarc, unsubscribe, workspace
from humanic_app.services.campaigns import guardrails, store
from humanic_app.services.delivery import dispatcher
from humanic_app.services.errors import ValidationFailed
from tests.support.campaign_world import World

DOC = {"name": "Welcome", "trigger": {"event": "user_signed_up"}, "steps": [{"subject": "Hi", "html": "<p>Hi</p>"}]}


def _campaign(session, html: str = "<p>Hi {{ name }}</p>"):
    document = {**DOC, "steps": [{"subject": "Hi", "html": "<p>First</p>"}, {"subject": "Then", "html": html}]}
    campaign = store.create_campaign(session=session, document=document)
    session.flush()
    return campaign


def _refusal(session, campaign) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
    return refused.value.field_errors


def test_physical_address_is_required_then_activation_goes_through(session):
    World(session)
    workspace.update_workspace(session=session, changes={"physical_address": "  "})
    campaign = _campaign(session)
    assert _refusal(session, campaign) == {
        "physical_address": "No physical mailing address: every email's footer must show one. Add your postal "
        "address in Settings → Physical mailing address."
    }
    workspace.update_workspace(session=session, changes={"physical_address": "1 Main St, Springfield"})
    assert store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active).status == (
        CampaignStatus.active
    )


def test_resuming_a_paused_campaign_checks_again(session):
    World(session)
    campaign = _campaign(session)
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active)
    store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.paused)
    workspace.update_workspace(session=session, changes={"physical_address": ""})
    assert set(_refusal(session, campaign)) == {"physical_address"}


def test_every_blocker_at_once_each_named_with_its_page(session):
    campaign = _campaign(session)
    found = guardrails.blockers(session=session, campaign=campaign, sending_through_resend=False)
    assert [(b.field, b.href) for b in found] == [("from_email", "/settings"), ("physical_address", "/settings")]


def test_from_domain_must_be_verified_when_sending_through_resend(session):
    World(session)
    workspace.update_workspace(session=session, changes={"public_url": "https://humanic.acme.io"})
    campaign = _campaign(session)

    def fields() -> dict[str, str]:
        found = guardrails.blockers(session=session, campaign=campaign, sending_through_resend=True)
        return {b.field: b.problem for b in found}

    assert fields() == {"from_domain": "The sending domain acme.io is not added: add it in Domains and verify it."}
    domain = Domain(name="acme.io", resend_id="d1", status="pending")
    session.add(domain)
    session.flush()
    assert "acme.io is pending: add its DNS records and click Verify" in fields()["from_domain"]
    domain.status = "verified"
    session.flush()
    assert fields() == {}
    # the local outbox sends nothing anywhere: no domain is needed
    domain.status = "failed"
    session.flush()
    assert guardrails.blockers(session=session, campaign=campaign, sending_through_resend=False) == []


@pytest.mark.parametrize("public_url", ["", "http://humanic.acme.io", "https://localhost:3000", "https://10.0.0.7"])
def test_through_resend_unsubscribe_links_must_be_public_https(session, public_url):
    World(session)
    session.add(Domain(name="acme.io", resend_id="d1", status="verified"))
    workspace.update_workspace(session=session, changes={"public_url": public_url})
    campaign = _campaign(session)
    found = guardrails.blockers(session=session, campaign=campaign, sending_through_resend=True)
    assert [b.field for b in found] == ["public_url"]
    assert "Settings → Public URL" in found[0].problem
    # the local outbox keeps every email on this machine: its links need not reach anyone
    assert guardrails.blockers(session=session, campaign=campaign, sending_through_resend=False) == []


@pytest.mark.parametrize(
    "html",
    ["<p>Hi</p><!-- note", "<p>Hi</p><style>p { color: red }", "<p>Hi</p><script>", "<p>Hi</p><textarea>"],
)
def test_a_step_whose_html_swallows_the_footer_link_is_refused(session, html):
    World(session)
    campaign = _campaign(session, html)
    assert list(_refusal(session, campaign)) == ["steps.1"]
    problem = _refusal(session, campaign)["steps.1"]
    assert problem.startswith('Step 2 (email "Then"): the email as sent hides the unsubscribe link')
    assert "Close it in this step's HTML." in problem


def test_a_step_that_cannot_render_is_refused_at_its_field(session):
    World(session)
    campaign = _campaign(session, "{{ 1 / 0 }}")
    problem = _refusal(session, campaign)["steps.1"]
    assert problem == 'Step 2 (email "Then") cannot be rendered on the sample event: division by zero (line 1). ' + (
        "Fix its template first."
    )


def test_the_check_uses_the_dispatchers_builder_and_a_link_that_verifies(session, monkeypatch):
    """The email checked is the one the dispatcher sends: break the builder's headers or footer and the
    check refuses; the link it checks is a signed /unsubscribe/ token that verifies."""
    World(session)
    campaign = _campaign(session)
    seen: list[composing.Composed] = []
    real = composing.compose

    def spy(**kwargs):
        seen.append(real(**kwargs))
        return seen[-1]

    monkeypatch.setattr(composing, "compose", spy)
    assert guardrails.blockers(session=session, campaign=campaign, sending_through_resend=False) == []
    assert dispatcher.composing is composing  # the dispatcher renders through the same function
    url = seen[-1].headers["List-Unsubscribe"].strip("<>")
    token = url.rsplit("/unsubscribe/", 1)[1]
    assert unsubscribe.token_is_genuine(session=session, token=token)
    assert not unsubscribe.token_is_genuine(session=session, token=token[:-2] + "xx")
    assert f'<a href="{url}">Unsubscribe</a>' in seen[-1].html and url in seen[-1].text

    monkeypatch.setattr(composing, "compose", lambda **kw: real(**kw).__class__(**{**vars(real(**kw)), "headers": {}}))
    assert "lacks the List-Unsubscribe headers" in _refusal(session, campaign)["steps.0"]
    monkeypatch.setattr(
        composing, "compose", lambda **kw: real(**kw).__class__(**{**vars(real(**kw)), "text": "no link"})
    )
    assert "no unsubscribe link in its text part" in _refusal(session, campaign)["steps.0"]


class FakeDns:
    def __init__(self, records: dict[str, list[str]] | None = None, fail: Exception | None = None):
        self.records, self.fail, self.asked = records or {}, fail, []

    def __call__(self, name: str) -> list[str]:
        self.asked.append(name)
        if self.fail:
            raise self.fail
        return self.records.get(name, [])


def _dmarc(session, fake: FakeDns, *, through_resend=True):
    from_email = workspace.read_workspace(session=session).from_email
    return guardrails.dmarc_check(
        from_email=from_email, checker=dmarc.DmarcChecker(fake), sending_through_resend=through_resend
    )


def test_dmarc_found_missing_and_the_record_to_add(session):
    workspace.update_workspace(session=session, changes={"from_email": "news@mail.acme.io"})
    found = _dmarc(session, FakeDns({"_dmarc.acme.io": ["v=spf1 -all", "v=DMARC1; p=reject"]}))
    assert found.status == dmarc.DmarcStatus.found and found.found == "v=DMARC1; p=reject"
    assert guardrails.dmarc_warning(found) == ""
    fake = FakeDns({"_dmarc.acme.io": ["v=DMARC1; p=none", "v=DMARC1; p=reject"]})  # two are none (RFC 7489)
    missing = _dmarc(session, fake)
    assert fake.asked == ["_dmarc.mail.acme.io", "_dmarc.acme.io"]
    assert missing.status == dmarc.DmarcStatus.missing
    assert missing.record == '_dmarc.mail.acme.io TXT "v=DMARC1; p=none; rua=mailto:news@mail.acme.io"'
    assert guardrails.dmarc_warning(missing).startswith("mail.acme.io has no DMARC record.")


@pytest.mark.parametrize("failure", [dns.exception.Timeout(), OSError("network unreachable")])
def test_dmarc_lookup_failure_says_it_could_not_check_and_blocks_nothing(session, failure):
    World(session)
    campaign = _campaign(session)
    check = _dmarc(session, FakeDns(fail=failure))
    assert check.status == dmarc.DmarcStatus.unknown and check.record.startswith("_dmarc.acme.io TXT")
    assert "could not be checked" in guardrails.dmarc_warning(check)
    assert "activation is not held up" in guardrails.dmarc_warning(check)
    assert store.set_status(session=session, campaign_id=campaign.id, status=CampaignStatus.active).status == (
        CampaignStatus.active
    )


def test_dmarc_is_not_looked_up_for_the_local_outbox_or_without_a_from_address(session):
    fake = FakeDns()
    assert _dmarc(session, fake) is None
    workspace.update_workspace(session=session, changes={"from_email": "news@acme.io"})
    assert _dmarc(session, fake, through_resend=False) is None
    assert fake.asked == []


def test_dmarc_answers_are_cached_briefly():
    now = [100.0]
    fake = FakeDns({"_dmarc.acme.io": ["v=DMARC1; p=none"]})
    checker = dmarc.DmarcChecker(fake, ttl=300, failure_ttl=30, monotonic=lambda: now[0])
    assert checker.check(domain="acme.io", report_to="a@acme.io").status == dmarc.DmarcStatus.found
    now[0] += 299
    checker.check(domain="acme.io", report_to="a@acme.io")
    assert fake.asked == ["_dmarc.acme.io"]
    now[0] += 2
    fake.records = {}
    assert checker.check(domain="acme.io", report_to="a@acme.io").status == dmarc.DmarcStatus.missing
    fake.fail = dns.exception.Timeout()
    now[0] += 301
    assert checker.check(domain="acme.io", report_to="a@acme.io").status == dmarc.DmarcStatus.unknown
    fake.fail = None
    now[0] += 31  # a failure is remembered for less time: the next look may succeed
    assert checker.check(domain="acme.io", report_to="a@acme.io").status == dmarc.DmarcStatus.missing


def test_the_real_lookup_through_dnspython_against_a_local_server():
    """dnspython's resolver asking a DNS server on this machine: found, missing, and a server that never
    answers read as a failed check (within the lookup's lifetime), never as an error."""
    import socket

    from tests.support.fake_dns import FakeDns as LocalDnsServer

    with LocalDnsServer({"_dmarc.acme.io": ["v=DMARC1; p=quarantine"]}) as server:
        checker = dmarc.DmarcChecker(dmarc.dns_lookup((server.nameserver,)))
        assert checker.check(domain="news.acme.io", report_to="").found == "v=DMARC1; p=quarantine"
        assert checker.check(domain="other.test", report_to="").status == dmarc.DmarcStatus.missing
        assert server.asked == ["_dmarc.news.acme.io", "_dmarc.acme.io", "_dmarc.other.test"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        host, port = silent.getsockname()
        lookup = dmarc.dns_lookup((f"{host}:{port}",), lifetime=0.5)
        check = dmarc.DmarcChecker(lookup).check(domain="acme.io", report_to="")
    assert check.status == dmarc.DmarcStatus.unknown and check.reason == "the DNS lookup timed out"
