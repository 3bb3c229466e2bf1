"""Bank files in the three formats, built from random hashes by the tests."""

from __future__ import annotations

import json
import secrets


def md5() -> str:
    return secrets.token_hex(16)


def sha1() -> str:
    return secrets.token_hex(20)


def pdq() -> str:
    return secrets.token_hex(32)


def vics(media: list[dict], version: str = "2.0") -> bytes:
    """media: [{"MD5": ..., "Category": 1, "Series": ..., "VictimIdentified": ..., "pdq": ...}]."""
    values = []
    for i, m in enumerate(media, start=1):
        item = {"MediaID": i, "Category": m.get("Category", 1), "MD5": m.get("MD5", md5()).upper(),
                "SHA1": m.get("SHA1", sha1()).upper(), "MediaSize": 1234, "IsPrecategorized": True,
                "Series": m.get("Series"), "VictimIdentified": m.get("VictimIdentified", False),
                "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": "c2FtcGxl"}]}
        if m.get("pdq"):
            item["AlternativeHashes"].append({"HashName": "PDQ", "HashValue": m["pdq"]})
        values.append(item)
    head = ({"@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"}
            if version == "2.0" else
            {"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml/Default/$metadata#Media"})
    return json.dumps(head | {"value": values}, indent=1).encode()


def csv(rows: list[tuple]) -> bytes:
    """rows: (hash_type, hash, category, series)."""
    lines = ["hash_type,hash,category,series,victim_identified"]
    lines += [",".join(str(x) if x is not None else "" for x in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def lines(values: list[str]) -> bytes:
    return ("# exported list\n\n" + "\n".join(values) + "\n").encode()
