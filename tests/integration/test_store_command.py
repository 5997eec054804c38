"""`tresen store FILE` against the emulators: the merchant's store and menu are there for the API."""

from __future__ import annotations

import json
import uuid

from support import CAFE, run_tresen


def test_a_store_written_by_the_command_serves_its_menu(client, backend, tmp_path):
    store_id = f"cafe{uuid.uuid4().hex[:8]}"
    path = tmp_path / "store.json"
    path.write_text(json.dumps(CAFE | {"store": CAFE["store"] | {"id": store_id}}))
    code, output = run_tresen("store", str(path))
    assert (code, output.strip().splitlines()[-1]) == (0, f"store {store_id}: 2 products written")
    menu = client.get(f"/v1/stores/{store_id}/menu").get_json()
    assert menu["store"]["name"] == "Café Lindner"
    assert sorted(p["id"] for p in menu["products"]) == ["croissant", "espresso"]
