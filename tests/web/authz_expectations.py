"""What every /api/v1 route answers to whom: the one table the authorization matrix checks.

Each route names the roles that pass its role gate, the labelled record in its path (whose
label and owner decide 404), whether callers act only for their own nation, and the order of
those checks; `request` builds a request that succeeds when every check passes. A route in
the application without an entry here fails `test_every_api_route_has_an_expectation`.

The releasability oracle (`sees`) is written out from the rules independently of
`coalition.access.visibility`, so the matrix tests the implementation, not itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from coalition.access.labels import Releasability, Role
from tests.service.access.principals import Principal

R = Role
ANY_ROLE = None
ADMIN = frozenset({R.ADMIN})
STAFF = frozenset({R.ADMIN, R.COORDINATOR})  # registry, catalog, meetings, audit
PLEDGE_WRITERS = frozenset({R.ADMIN, R.COORDINATOR, R.NATIONAL})
REQUIREMENT_WRITERS = frozenset({R.ADMIN, R.COORDINATOR, R.RECIPIENT})
DONOR_BOUND = frozenset({R.NATIONAL})  # national desks act for their own nation only
RECIPIENT_BOUND = frozenset({R.NATIONAL, R.RECIPIENT})
LOGISTICS = frozenset({R.ADMIN, R.COORDINATOR, R.NATIONAL, R.RECIPIENT})
MATCHING_READERS = frozenset({R.ADMIN, R.COORDINATOR, R.NATIONAL, R.RECIPIENT, R.ANALYST})
DECIDERS = frozenset({R.ADMIN, R.NATIONAL})  # the donor's own desk decides, not the secretariat
SCENARIO_READERS = frozenset({R.ADMIN, R.COORDINATOR, R.ANALYST})

LABELS = (Releasability.PUBLIC, Releasability.COALITION, Releasability.NATO,
          Releasability.NATIONAL)
# The matrix world: UDCG led by the USA (members below), NSATU led by NATO.
UDCG_MEMBERS = frozenset({"USA", "DEU", "POL", "JPN", "AUS", "UKR"})
NATO_MEMBERS = frozenset({"USA", "DEU", "POL", "CAN"})
OTHER_DONOR = "DEU"  # owns the records that are nobody's "own" among the principals
RECIPIENT = "UKR"


def sees(p: Principal, label: Releasability, owner: str) -> bool:
    """The releasability rules for a record of UDCG owned by `owner`."""
    if p.role is R.ADMIN or label is Releasability.PUBLIC:
        return True
    if p.role is R.OBSERVER or p.role is None:
        return False
    if p.nation == owner or p.format == "UDCG":
        return True
    if label is Releasability.COALITION:
        return p.nation in UDCG_MEMBERS
    if label is Releasability.NATO:
        return p.nation in NATO_MEMBERS or p.format == "NSATU"
    return False


@dataclass(frozen=True)
class Case:
    label: Releasability | None
    owner: str | None


@dataclass(frozen=True)
class Req:
    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    # A multipart form (file uploads).
    files: dict[str, Any] | None = None
    data: dict[str, Any] | None = None


# The ids of the matrix world's records; filled by the test's fixture.
Ctx = dict[str, Any]
Build = Callable[[Ctx, Case], Req]


def _none(ctx: Ctx, case: Case) -> Req:
    return Req()


@dataclass(frozen=True)
class Route:
    roles: frozenset[Role] | None = ANY_ROLE
    ok: int = 200
    # The labelled record in the path: pledge, requirement, meeting or allocation.
    target: str | None = None
    # Who owns the record a body creates (no target): "donor" or "recipient".
    owned: str | None = None
    # Roles that act only for their own nation here.
    own_rule: frozenset[Role] = frozenset()
    checks: tuple[str, ...] = ("role", "see", "own", "format")
    # Coordinators act only for their own format's records (all of this world's are UDCG's).
    own_format: bool = False
    # A participant besides the owner that also counts as "own" (a shipment's recipient).
    co_owner: str | None = None
    # Statuses of refusals, where a route reports them otherwise (a batch names its rows).
    unseen: int = 404
    refused: int = 403
    public: bool = False
    request: Build = _none

    def owners(self, p: Principal) -> list[str | None]:
        kind = self.owned or {"pledge": "donor", "allocation": "donor", "meeting": "donor",
                              "shipment": "donor",
                              "requirement": "recipient"}.get(self.target or "")
        if kind == "recipient":
            return [RECIPIENT]
        if kind == "donor":
            own = [p.nation] if p.nation and p.nation != OTHER_DONOR else []
            return [*own, OTHER_DONOR]
        return [None]

    def cases(self, p: Principal) -> list[Case]:
        labels: tuple[Releasability | None, ...] = LABELS if self.target else (None,)
        other = self.owners(p)[-1]
        if p.role is None:  # credentials are checked before anything else
            return [Case(labels[0], other)]
        if self.target and self.checks[0] == "role" and self.roles is not None \
                and p.role not in self.roles:
            # Refused by role whatever the record: one it may see and one it may not are
            # enough to show the refusal does not depend on (and so reveal) the record.
            return [Case(Releasability.PUBLIC, other), Case(Releasability.NATIONAL, other)]
        # Every label for another nation's record; for the principal's own, NATIONAL alone
        # (seen only because it is theirs) shows both sight and the right to act as owner.
        own = [Case(Releasability.NATIONAL, o) for o in self.owners(p)[:-1]] if self.target \
            else [Case(None, o) for o in self.owners(p)[:-1]]
        return [Case(label, other) for label in labels] + own

    def foreign_coordinator(self, p: Principal) -> bool:
        return self.own_format and p.role is R.COORDINATOR and p.format != "UDCG"

    def refusal(self, check: str, p: Principal, case: Case) -> int | None:
        """The status one check answers with when it refuses, None when it lets through."""
        if check == "role":
            return 403 if self.roles is not None and p.role not in self.roles else None
        if check == "see":
            if self.target is None:
                return None
            assert case.label is not None and case.owner is not None
            return None if sees(p, case.label, case.owner) else self.unseen
        if check == "own":
            own = p.nation in {case.owner, self.co_owner}
            return self.refused if p.role in self.own_rule and not own else None
        assert check == "format", check
        return self.refused if self.foreign_coordinator(p) else None

    def expected(self, p: Principal, case: Case) -> int:
        if self.public:
            return self.ok
        if p.role is None:
            return 401
        for check in self.checks:
            status = self.refusal(check, p, case)
            if status is not None:
                return status
        return self.ok


def _target(name: str, json: Any = None) -> Build:
    def build(ctx: Ctx, case: Case) -> Req:
        return Req(path={f"{name}_id": ctx[name][(case.owner, case.label)]}, json=json)
    return build


def _json(body: Any, **path: Any) -> Build:
    return lambda ctx, case: Req(path=dict(path), json=body)


def _pledge_body(ctx: Ctx, case: Case) -> Req:
    return Req(json={"donor": case.owner, "item_type": "155-a", "quantity": 10,
                     "amount": "30000.00", "announced_on": "2024-06-13",
                     "available_from": "2024-07-01"})


def _requirement_body(ctx: Ctx, case: Case) -> Req:
    return Req(json={"recipient": case.owner, "item_type": "155-b", "quantity": 10,
                     "priority": 2, "needed_by": "2024-12-01"})


def _allocation_body(ctx: Ctx, case: Case) -> Req:
    return Req(json={"pledge_id": ctx["pledge"][(case.owner, case.label)],
                     "requirement_id": ctx["public_requirement"], "quantity": 1})


def _announcement(ctx: Ctx, case: Case) -> Req:
    return Req(path={"meeting_id": ctx["meeting"][(case.owner, case.label)]},
               json={"pledge_id": ctx["unannounced_pledge"]})


def _event_batch(ctx: Ctx, case: Case) -> Req:
    """One event on the case's shipment: a batch names refused rows (422), never 403/404."""
    assert case.label is not None
    return Req(json=[{"external_id": "mx-event", "kind": "dispatched", "source": "matrix",
                      "shipment": f"MX-{case.owner}-{case.label.value}",
                      "occurred_at": "2024-06-14T09:00:00Z"}])


def _import_body(ctx: Ctx, case: Case) -> Req:
    rows = ("external_id,donor,item_type,quantity,amount,currency,announced_on\n"
            f"MX-IMPORT,{case.owner},155-a,10,30000.00,EUR,2024-06-13\n")
    return Req(files={"file": ("pledges.csv", rows.encode())}, data={"resource": "pledges"})


def _revoke_token(ctx: Ctx, case: Case) -> Req:
    return Req(path={"token_id": ctx["spare_token_id"]})


def _site_body(ctx: Ctx, case: Case) -> Req:
    return Req(json={"code": "MX-SITE", "name": "Matrix depot", "kind": "donor_depot",
                     "country": case.owner, "latitude": "50.0", "longitude": "20.0"})


def _shipment_body(ctx: Ctx, case: Case) -> Req:
    return Req(json={"reference": "MX-NEW", "origin": "MX-DEPOT",
                     "legs": [{"to": "MX-HUB", "mode": "road"}, {"to": "MX-UKR", "mode": "rail"}],
                     "lines": [{"allocation_id": ctx["allocation"][(case.owner, case.label)],
                                "quantity": 5}],
                     "planned_departure": "2024-07-01T08:00:00Z",
                     "planned_arrival": "2024-07-03T08:00:00Z"})


PARTICIPANT = {"kind": "state", "code": "NOR", "name": "Norway", "nato_member_since": 1949}
ITEM = {"code": "mx-1", "name": "Matrix item", "capability_area": "artillery",
        "category": "ammo"}

ROUTES: dict[tuple[str, str], Route] = {
    # open and self
    ("GET", "/api/v1/health"): Route(public=True),
    ("GET", "/api/v1/me"): Route(),
    # registry: everyone reads, the secretariat and admins write
    ("GET", "/api/v1/participants"): Route(),
    ("POST", "/api/v1/participants"): Route(STAFF, 201, request=_json(PARTICIPANT)),
    ("GET", "/api/v1/participants/{code}"): Route(request=_json(None, code="JPN")),
    ("PATCH", "/api/v1/participants/{code}"): Route(STAFF, request=_json({"gdp_year": 2024},
                                                                         code="JPN")),
    ("GET", "/api/v1/formats"): Route(),
    ("POST", "/api/v1/formats"): Route(STAFF, 201, request=_json({"code": "MX", "name": "MX"})),
    ("GET", "/api/v1/formats/{code}"): Route(request=_json(None, code="UDCG")),
    ("PATCH", "/api/v1/formats/{code}"): Route(
        STAFF, own_format=True, request=_json({"name": "Ramstein"}, code="UDCG")),
    ("POST", "/api/v1/formats/{code}/members"): Route(
        STAFF, 201, own_format=True,
        request=_json({"participant": "CAN", "joined_on": "2024-01-01"}, code="UDCG")),
    ("POST", "/api/v1/formats/{code}/lead"): Route(
        STAFF, own_format=True, request=_json({"lead": "NATO", "on": "2024-07-10"}, code="UDCG")),
    ("POST", "/api/v1/formats/{code}/handover"): Route(
        STAFF, own_format=True, request=_json({"to": "NATO", "on": "2024-07-10",
                                               "relabel_coalition": True}, code="UDCG")),
    ("GET", "/api/v1/coalitions"): Route(),
    ("POST", "/api/v1/coalitions"): Route(STAFF, 201, request=_json(
        {"code": "MX-C", "name": "Matrix coalition", "capability_area": "artillery"})),
    ("GET", "/api/v1/coalitions/{code}"): Route(request=_json(None, code="ARTY")),
    # catalog
    ("GET", "/api/v1/catalog/categories"): Route(),
    ("POST", "/api/v1/catalog/categories"): Route(STAFF, 201, request=_json(
        {"code": "mx", "name": "Matrix"})),
    ("GET", "/api/v1/catalog/item-types"): Route(),
    ("POST", "/api/v1/catalog/item-types"): Route(STAFF, 201, request=_json(ITEM)),
    ("GET", "/api/v1/catalog/item-types/{code}"): Route(request=_json(None, code="155-a")),
    ("PATCH", "/api/v1/catalog/item-types/{code}"): Route(STAFF, request=_json(
        {"unit": "shell"}, code="155-a")),
    ("GET", "/api/v1/catalog/item-types/{code}/substitutes"): Route(
        request=_json(None, code="155-a")),
    # requirements: the recipient's staff (for their own nation) and the secretariat
    ("GET", "/api/v1/requirements"): Route(),
    ("POST", "/api/v1/requirements"): Route(REQUIREMENT_WRITERS, 201, owned="recipient",
                                            own_rule=RECIPIENT_BOUND, own_format=True,
                                            request=_requirement_body),
    ("GET", "/api/v1/requirements/{requirement_id}"): Route(
        target="requirement", request=_target("requirement")),
    ("PATCH", "/api/v1/requirements/{requirement_id}"): Route(
        REQUIREMENT_WRITERS, target="requirement", own_rule=RECIPIENT_BOUND, own_format=True,
        request=_target("requirement", {"notes": "matrix"})),
    ("GET", "/api/v1/requirements/{requirement_id}/allocations"): Route(
        target="requirement", request=_target("requirement")),
    ("POST", "/api/v1/requirements/{requirement_id}/withdraw"): Route(
        REQUIREMENT_WRITERS, target="requirement", own_rule=RECIPIENT_BOUND, own_format=True,
        request=_target("requirement", {"reason": "matrix"})),
    # pledges and allocations: national desks for their own nation, and the secretariat
    ("GET", "/api/v1/pledges"): Route(),
    ("POST", "/api/v1/pledges"): Route(PLEDGE_WRITERS, 201, owned="donor",
                                       own_rule=DONOR_BOUND, own_format=True,
                                       request=_pledge_body),
    ("GET", "/api/v1/pledges/{pledge_id}"): Route(target="pledge", request=_target("pledge")),
    ("PATCH", "/api/v1/pledges/{pledge_id}"): Route(
        PLEDGE_WRITERS, target="pledge", own_rule=DONOR_BOUND, own_format=True,
        request=_target("pledge", {"notes": "matrix"})),
    ("GET", "/api/v1/pledges/{pledge_id}/allocations"): Route(
        target="pledge", request=_target("pledge")),
    ("POST", "/api/v1/pledges/{pledge_id}/transitions"): Route(
        PLEDGE_WRITERS, target="pledge", own_rule=DONOR_BOUND, own_format=True,
        request=_target("pledge", {"to": "cancelled", "reason": "matrix"})),
    ("POST", "/api/v1/allocations"): Route(PLEDGE_WRITERS, 201, target="pledge",
                                           own_rule=DONOR_BOUND, own_format=True,
                                           request=_allocation_body),
    ("POST", "/api/v1/allocations/{allocation_id}/cancel"): Route(
        PLEDGE_WRITERS, target="allocation", own_rule=DONOR_BOUND, own_format=True,
        request=_target("allocation", {"reason": "matrix"})),
    # meetings and decisions
    ("GET", "/api/v1/meetings"): Route(),
    ("POST", "/api/v1/meetings"): Route(STAFF, 201, own_format=True, request=_json(
        {"format": "UDCG", "title": "Matrix", "held_on": "2024-06-13"})),
    ("GET", "/api/v1/meetings/{meeting_id}"): Route(target="meeting",
                                                    request=_target("meeting")),
    ("POST", "/api/v1/meetings/{meeting_id}/announcements"): Route(
        STAFF, 201, target="meeting", own_format=True, request=_announcement),
    ("POST", "/api/v1/meetings/{meeting_id}/decisions"): Route(
        STAFF, 201, target="meeting", checks=("see", "role", "format"), own_format=True,
        request=_target("meeting", {"text": "Matrix decision"})),
    ("GET", "/api/v1/decisions"): Route(),
    # reports: everyone, over what they may see
    **{("GET", f"/api/v1/reports/{kind}"): Route() for kind in (
        "donors", "categories", "areas", "timeline", "concentration", "delivery")},
    ("GET", "/api/v1/reports/{kind}/chart.json"): Route(request=_json(None, kind="areas")),
    ("GET", "/api/v1/reports/{kind}/chart.{ext}"): Route(request=_json(None, kind="areas",
                                                                       ext="svg")),
    # logistics: the donor's desk or the secretariat plans shipments; events come from them
    # and the recipient (the batch checks that row by row and answers 422 naming the row)
    ("GET", "/api/v1/sites"): Route(),
    ("POST", "/api/v1/sites"): Route(LOGISTICS, 201, owned="donor", own_rule=RECIPIENT_BOUND,
                                     request=_site_body),
    ("GET", "/api/v1/shipments"): Route(),
    ("POST", "/api/v1/shipments"): Route(PLEDGE_WRITERS, 201, target="allocation",
                                         own_rule=DONOR_BOUND, own_format=True,
                                         request=_shipment_body),
    ("GET", "/api/v1/shipments/late"): Route(),
    ("GET", "/api/v1/shipments/discrepancies"): Route(),
    ("GET", "/api/v1/shipments/{shipment_id}"): Route(target="shipment", owned="donor",
                                                      request=_target("shipment")),
    ("POST", "/api/v1/delivery-events:batch"): Route(
        LOGISTICS, target="shipment", own_rule=RECIPIENT_BOUND, co_owner=RECIPIENT,
        own_format=True, unseen=422, refused=422, request=_event_batch),
    ("GET", "/api/v1/hubs/{code}/in-transit"): Route(request=_json(None, code="MX-HUB")),
    ("GET", "/api/v1/requirements/{requirement_id}/logistics"): Route(
        target="requirement", request=_target("requirement")),
    ("GET", "/api/v1/logistics/delivery-by-donor"): Route(),
    ("GET", "/api/v1/meetings/{meeting_id}/report"): Route(target="meeting",
                                                           request=_target("meeting")),
    # users, tokens, audit
    ("GET", "/api/v1/users"): Route(ADMIN),
    ("POST", "/api/v1/users"): Route(ADMIN, 201, request=_json(
        {"name": "mx-user", "role": "national", "nation": "AUS"})),
    ("POST", "/api/v1/users/{name}/revoke"): Route(ADMIN, request=_json(None,
                                                                        name="p-observer")),
    ("GET", "/api/v1/tokens"): Route(ADMIN),
    ("POST", "/api/v1/tokens"): Route(ADMIN, 201, request=_json({"user": "p-observer"})),
    ("POST", "/api/v1/tokens/{token_id}/revoke"): Route(ADMIN, request=_revoke_token),
    ("GET", "/api/v1/audit"): Route(STAFF),
    ("GET", "/api/v1/audit/verify"): Route(STAFF),
    # imports and exports: as the services allow; exports show what the caller may see
    ("POST", "/api/v1/imports"): Route(PLEDGE_WRITERS, 201, owned="donor", own_rule=DONOR_BOUND,
                                       own_format=True, request=_import_body),
    **{("GET", f"/api/v1/{path}/export"): Route() for path in (
        "pledges", "requirements", "participants", "catalog/item-types", "meetings")},
    # matching: the secretariat runs it, the donor nation's desk decides on its own proposals
    ("POST", "/api/v1/matching/runs"): Route(STAFF, request=_json({"dry_run": True})),
    ("GET", "/api/v1/matching/runs"): Route(MATCHING_READERS),
    ("GET", "/api/v1/matching/runs/{run_id}"): Route(
        MATCHING_READERS, request=lambda ctx, case: Req(path={"run_id": ctx["run"]})),
    ("GET", "/api/v1/matching/proposals"): Route(MATCHING_READERS),
    ("GET", "/api/v1/matching/proposals/{proposal_id}"): Route(
        MATCHING_READERS, target="proposal", owned="donor", request=_target("proposal")),
    ("POST", "/api/v1/matching/proposals/{proposal_id}/approve"): Route(
        DECIDERS, target="proposal", owned="donor", own_rule=DONOR_BOUND,
        request=_target("proposal")),
    ("POST", "/api/v1/matching/proposals/{proposal_id}/decline"): Route(
        DECIDERS, target="proposal", owned="donor", own_rule=DONOR_BOUND,
        request=_target("proposal", {"reason": "matrix"})),
    ("GET", "/api/v1/requirements/{requirement_id}/explain"): Route(
        MATCHING_READERS, target="requirement", request=_target("requirement")),
    ("POST", "/api/v1/scenarios/withdraw"): Route(SCENARIO_READERS,
                                                  request=_json({"donor": "DEU"})),
}
