"""subject_keys: a `fam:` key per record with a family name (the registry's name check)

Possible earlier warnings compare names per subject; finding the warned subjects that carry a family
name needs that name indexed. Only the registry reads these keys; linkage never uses them to find
candidates. Records stored before this revision get theirs here, from their stored features.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 10:30:00
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PREFIX = "fam:"  # features.FAMILY_KEY_PREFIX, copied: a migration must not change when the code does
BATCH = 5000


def upgrade() -> None:
    conn = op.get_bind()
    records = sa.table("subject_records", sa.column("reported_person_id"), sa.column("features"))
    keys = sa.table("subject_keys", sa.column("key"), sa.column("reported_person_id"))
    last = 0
    while True:
        rows = conn.execute(sa.select(records.c.reported_person_id, records.c.features)
                            .where(records.c.reported_person_id > last)
                            .order_by(records.c.reported_person_id).limit(BATCH)).all()
        if not rows:
            break
        last = rows[-1][0]
        found = []
        for person, features in rows:
            family = (features if isinstance(features, dict) else json.loads(features)).get("family")
            if family:
                found.append({"key": PREFIX + family, "reported_person_id": person})
        if found:
            conn.execute(keys.insert(), found)


def downgrade() -> None:
    op.execute(f"DELETE FROM subject_keys WHERE key LIKE '{PREFIX}%'")
