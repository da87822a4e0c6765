"""The inventory script shipped with Palier, run on this machine."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from palier.assets.inventory.client import palier_inventory
from palier.assets.inventory.schema import first_error
from palier.assets.models import Asset

from .corpus import new_token

SCRIPT = palier_inventory.__file__


@pytest.mark.django_db(transaction=True)
def test_the_script_describes_this_machine_and_posts_it(live_server):
    done = subprocess.run([sys.executable, SCRIPT, "--dry-run"], capture_output=True, timeout=60, check=True)
    document = json.loads(done.stdout)
    assert first_error(document) == ""
    assert document["content"]["hardware"]["name"] and document["content"]["operatingsystem"]["name"]
    _token, secret = new_token()
    assert palier_inventory.post(live_server.url, "pinv_wrong", document) == 1
    assert palier_inventory.post(live_server.url, secret, document) == 0
    machine = Asset.objects.get()
    assert machine.name == document["content"]["hardware"]["name"]
    assert machine.installations.count() == len(
        {(s["name"].lower(), s.get("version", ""), s.get("arch", "")) for s in document["content"].get("softwares", [])}
    )
