"""The Trade Desk: third-party data elements under the provider's account, with the
TTD-Auth header. Create (POST /v3/thirdpartydata), update (PUT), and paged query
(POST /v3/thirdpartydata/query). The element id is derived from the topic id.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from jobcore.activations.credentials import PlatformCredentials
from jobcore.activations.platforms.base import SegmentPush, SegmentState
from jobcore.http import RetryPolicy, send

ELEMENTS_PATH = "/v3/thirdpartydata"
QUERY_PAGE_SIZE = 500
ROOT_ELEMENT = "audiencegpt"


def element_id(topic_id: int) -> str:
    """The provider element id of a topic's data element."""
    return f"topic-{topic_id}"


@dataclass(frozen=True)
class Element:
    element_id: str
    name: str
    description: str
    parent_id: str | None


class TradeDeskClient:
    platform = "the_trade_desk"

    def __init__(self, base_url: str, credentials: PlatformCredentials, http: httpx.Client, *,
                 policy: RetryPolicy | None = None) -> None:
        self._base = base_url.rstrip("/")
        self._provider = credentials.account_id
        self._headers = {"TTD-Auth": credentials.secret.get_secret_value()}
        self._http = http
        self._policy = policy or RetryPolicy()

    def _body(self, segment: SegmentPush) -> dict:
        return {"ProviderId": self._provider, "ProviderElementId": element_id(segment.topic_id),
                "ParentElementId": ROOT_ELEMENT, "DisplayName": segment.name,
                "Description": segment.description or ""}

    def push(self, segment: SegmentPush) -> str:
        """Update the element when it exists on the platform, else create it."""
        method = "PUT" if segment.external_id else "POST"
        send(self._http, self.platform, method, self._base + ELEMENTS_PATH,
             policy=self._policy, json=self._body(segment), headers=self._headers)
        return element_id(segment.topic_id)

    def elements(self) -> list[Element]:
        """Every element of the provider, page by page."""
        found: list[Element] = []
        start = 0
        while True:
            response = send(self._http, self.platform, "POST",
                            self._base + ELEMENTS_PATH + "/query", policy=self._policy,
                            headers=self._headers, json={"ProviderId": self._provider,
                                                         "PageStartIndex": start,
                                                         "PageSize": QUERY_PAGE_SIZE})
            body = response.json()
            page = body.get("Result", [])
            found += [Element(e["ProviderElementId"], e.get("DisplayName", ""),
                              e.get("Description", ""), e.get("ParentElementId"))
                      for e in page]
            start += len(page)
            if not page or start >= body.get("ResultCount", 0):
                return found

    def read(self, external_id: str) -> SegmentState | None:
        """The element with this provider element id, from the paged query."""
        for element in self.elements():
            if element.element_id == external_id:
                return SegmentState(element.element_id, element.name, element.description)
        return None
