"""The one Piccolo app: every domain's tables share one migration history.

A single chain keeps cross-domain foreign keys (everything points at tenant and
integration) simple to order; the tables themselves live in their domain packages.
"""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.actions.tables import ActionRun
from backend.catalog.tables import Connector
from backend.integrations.tables import Integration
from backend.mappings.tables import IntegrationMapping
from backend.oauth.tables import OAuthState
from backend.observability.metric_tables import IntegrationMetric
from backend.observability.tables import Alert, AuditLog, IntegrationLog
from backend.syncs.schedule_tables import SyncSchedule
from backend.syncs.tables import IntegrationSyncJob, SyncCursor, SyncedRecord
from backend.tenants.tables import ApiKey, Tenant, TenantKey
from backend.webhooks.tables import IntegrationWebhook

TABLES = [
    Tenant,
    ApiKey,
    TenantKey,
    Connector,
    Integration,
    OAuthState,
    IntegrationWebhook,
    IntegrationSyncJob,
    SyncCursor,
    SyncedRecord,
    SyncSchedule,
    IntegrationMapping,
    ActionRun,
    IntegrationLog,
    AuditLog,
    Alert,
    IntegrationMetric,
]

APP_CONFIG = AppConfig(
    app_name="switchboard",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
