"""A small world for review/audit/auth tests: demo units, one user per role and scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.helpers import auth, post_json

INSPECTIONS = "/api/v1/inspections"


@dataclass
class World:
    """Tokens by name, user ids by name, and helpers to post and review inspections."""

    client: Any
    factory: Any
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    def token(self, name: str) -> str:
        """The bearer token of ``name``."""
        return self.tokens[name]

    def post(self, who: str = "surveyor", unit: str = "35.15-DUKCAPIL", **over: Any) -> dict:
        """Post an all-yes checklist as ``who``; returns the stored inspection."""
        body = self.factory.with_evidence(
            self.factory.all_yes_submission(unit, **over), self.tokens[who]
        )
        response = post_json(self.client, INSPECTIONS, body, self.tokens[who])
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def post_with_findings(self, who: str = "surveyor") -> dict:
        """Post the documented sample (it has findings); returns the stored inspection."""
        response = post_json(self.client, INSPECTIONS, self.factory.submission(), self.tokens[who])
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def review(
        self, inspection_id: int, decision: str, reason: str | None = None, who="supervisor"
    ):
        """POST a review decision; returns the response."""
        body: dict[str, Any] = {"decision": decision}
        if reason is not None:
            body["reason"] = reason
        return post_json(
            self.client, f"{INSPECTIONS}/{inspection_id}/review", body, self.tokens[who]
        )

    def get(self, url: str, who: str):
        """GET ``url`` as ``who``."""
        return self.client.get(url, headers=auth(self.tokens[who]))


#: name -> (role, region). "in" users can act on what ``surveyor`` posts in 35.15; "out" cannot.
USERS = {
    "surveyor": ("surveyor", "35"),
    "surveyor_other": ("surveyor", "35"),
    "supervisor": ("supervisor", "35"),
    "supervisor_out": ("supervisor", "13"),
    "admin": ("admin", None),
    "admin_out": ("admin", "13"),
}


def make_world(client, factory) -> World:
    """Import the demo units and create one user per entry of ``USERS``."""
    factory.units()
    world = World(client, factory)
    for name, (role, region) in USERS.items():
        world.ids[name], world.tokens[name] = factory.user(role, region, name=name)
    return world
