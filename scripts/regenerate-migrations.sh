#!/usr/bin/env bash
# Rebuilds the single "Initial" migration of each provider from the current model.
# Until the first release there is no deployed store to upgrade, so the schema history is
# kept as one migration per provider (docs/decisions.md, "Migrations before 1.0").
set -euo pipefail
cd "$(dirname "$0")/../src/TokenServer"
dotnet tool restore >/dev/null
rm -rf Store/Migrations/Sqlite Store/Migrations/Postgres Store/CompiledModels
dotnet ef migrations add Initial --context SqliteTokenServerDb --output-dir Store/Migrations/Sqlite
dotnet ef migrations add Initial --context PostgresTokenServerDb --output-dir Store/Migrations/Postgres
# The compiled models the server runs on (docs/performance.md, "First answer");
# Store/CompiledModelTests fails when they are behind the code.
dotnet ef dbcontext optimize --context SqliteTokenServerDb --output-dir Store/CompiledModels/Sqlite --namespace TokenServer.Store.CompiledModels.Sqlite
dotnet ef dbcontext optimize --context PostgresTokenServerDb --output-dir Store/CompiledModels/Postgres --namespace TokenServer.Store.CompiledModels.Postgres
rm -f design.db design.db-shm design.db-wal
