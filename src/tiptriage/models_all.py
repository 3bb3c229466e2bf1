"""Imports every domain's models, so metadata (and Alembic) sees all tables."""

from tiptriage.accounts import models as accounts_models  # noqa: F401
from tiptriage.audit import models as audit_models  # noqa: F401
from tiptriage.intake import models as intake_models  # noqa: F401
from tiptriage.media import models as media_models  # noqa: F401
from tiptriage.subjects import models as subjects_models  # noqa: F401
from tiptriage.registry import models as registry_models  # noqa: F401
from tiptriage.triage import models as triage_models  # noqa: F401
from tiptriage.operations import models as operations_models  # noqa: F401
