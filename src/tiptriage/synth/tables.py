"""The synthetic world's configuration tables, as a deployment would configure them for real data.

A unit places IP addresses with a table exported from a GeoIP source and knows which services are
private storage; for a generated set both follow from its world (truth.json `ip_blocks` and
`platforms`). `write` puts them next to a set (OUT_DIR/tables/) and names them in the variables
triage reads, so the demo and the tests configure the product exactly as a unit would.
"""

from __future__ import annotations

from pathlib import Path


def write(world: dict, folder: Path) -> dict[str, str]:
    """Write `ip_countries.csv` and `services.csv` for a truth (or its header) into `folder`; return
    the environment variables that point triage at them."""
    folder.mkdir(parents=True, exist_ok=True)
    ips, services = folder / "ip_countries.csv", folder / "services.csv"
    ips.write_text("network,country\n" + "".join(f"{net},{country}\n" for country, nets in world["ip_blocks"].items()
                                                 for net in nets), encoding="utf-8")
    services.write_text("service,kind\n" + "".join(f"{name},{kind}\n" for name, kind in world["platforms"].items()),
                        encoding="utf-8")
    return {"TIPTRIAGE_IP_COUNTRIES_FILE": str(ips), "TIPTRIAGE_SERVICES_FILE": str(services)}
