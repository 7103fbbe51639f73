using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace TokenServer.LoadRunner;

internal sealed record LargeStoreCounts(int Accounts, int Sessions, int RevokedTokenIds);

/// <summary>
/// Fills a stopped server's SQLite store directly with many accounts, login sessions (each with
/// one refresh token) and revoked access-token ids, for the target "with 100k accounts, 1M
/// revoked token ids and 100k sessions in the store, login, refresh and protected GET within
/// 10 % of an empty store". Rows are written as the server writes them: tables and columns of
/// src/TokenServer/Store/Migrations/Sqlite, ids and hashes as Tokens/AccessTokenIssuer.cs,
/// Tokens/SessionTokens.cs and Tokens/OpaqueTokens.cs make them, every DateTimeOffset through
/// EF Core's DateTimeOffsetToBinaryConverter (Store/TokenServerDb.cs).
/// </summary>
internal static class LargeStore
{
    public const string Suffix = "-large-store";

    /// <summary>The scenarios the target names, run on the empty store first and on the large store after.</summary>
    public static readonly IReadOnlyList<string> ScenarioNames = ["protected-get-me", "login", "refresh-rotation"];

    private const string InsertAccount =
        "INSERT INTO accounts (Email, NormalizedEmail, Username, NormalizedUsername, FullName, PasswordHash, Role, Status, IsActivated, SecurityStamp, LockoutEnd, CreatedAt, LastLoginAt) "
        + "VALUES ($email, $normalized, NULL, NULL, $name, $hash, $role, $status, 1, $stamp, NULL, $created, NULL)";

    private const string InsertSession =
        "INSERT INTO sessions (Id, AccountId, Dialect, ClientId, CreatedAt, LastUsedAt, ExpiresAt, RevokedAt, RevokedReason, UserAgent, ClientAddress) "
        + "VALUES ($id, $account, 'native', 'tokenserver', $created, $created, $expires, $revoked, $reason, 'TokenServer.LoadRunner', '127.0.0.1')";

    private const string InsertRefreshToken =
        "INSERT INTO refresh_tokens (SessionId, TokenHash, CreatedAt, ExpiresAt, ConsumedAt) VALUES ($session, $hash, $created, $expires, NULL)";

    private const string InsertRevokedToken =
        "INSERT INTO revoked_tokens (Jti, RevokedAt, ExpiresAt) VALUES ($jti, $revoked, $expires)";

    /// <summary>
    /// Writes the rows, one prepared command and one transaction per table. The server must
    /// not be running. Returns what was written and how long each table took.
    /// </summary>
    public static JsonObject Seed(string databasePath, LargeStoreCounts counts)
    {
        var total = Stopwatch.StartNew();
        var seconds = new JsonObject();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadWrite,
            ForeignKeys = true,
            // Closed for real at the end, so nothing of the runner's holds the file when the server starts.
            Pooling = false,
        }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA cache_size = -262144;");

        var now = DateTimeOffset.UtcNow;
        var template = ReadTemplateAccount(connection, now);

        // Accounts: every one has the bench user's password hash (so any of them could log in).
        var clock = Stopwatch.StartNew();
        var firstNewId = Scalar(connection, "SELECT COALESCE(MAX(Id), 0) FROM accounts") + 1;
        InTransaction(connection, InsertAccount, counts.Accounts, (parameters, i) =>
        {
            var email = string.Create(CultureInfo.InvariantCulture, $"large-store-{i:D7}@example.org");
            parameters["$email"].Value = email;
            parameters["$normalized"].Value = email.ToUpperInvariant();
            parameters["$name"].Value = string.Create(CultureInfo.InvariantCulture, $"Large Store {i}");
            parameters["$hash"].Value = template.PasswordHash;
            parameters["$role"].Value = template.Role;
            parameters["$status"].Value = template.Status;
            parameters["$stamp"].Value = Guid.NewGuid().ToString("N");
            parameters["$created"].Value = ToStore(now.AddDays(-60));
        });
        var accountIds = new List<long>(counts.Accounts);
        using (var select = connection.CreateCommand())
        {
            select.CommandText = "SELECT Id FROM accounts WHERE Id >= $first ORDER BY Id";
            select.Parameters.AddWithValue("$first", firstNewId);
            using var reader = select.ExecuteReader();
            while (reader.Read())
            {
                accountIds.Add(reader.GetInt64(0));
            }
        }

        if (accountIds.Count != counts.Accounts)
        {
            throw new InvalidOperationException($"Wrote {counts.Accounts} accounts but read back {accountIds.Count}.");
        }

        seconds["accounts"] = Math.Round(clock.Elapsed.TotalSeconds, 2);

        // Sessions, created over the last 7 days so every one and its refresh token is still
        // live (sessions last 30 days, refresh tokens 14) and nothing is due for pruning; one in
        // ten logged out, which the server keeps in its in-memory revocation list.
        clock.Restart();
        var sessions = new (string Id, DateTimeOffset Created)[counts.Sessions];
        var revokedSessions = 0;
        InTransaction(connection, InsertSession, counts.Sessions, (parameters, i) =>
        {
            var created = now - (TimeSpan.FromDays(7) * i / Math.Max(1, counts.Sessions)) - TimeSpan.FromMinutes(1);
            var id = RandomBase64Url(16);
            sessions[i] = (id, created);
            var revoked = i % 10 == 0;
            revokedSessions += revoked ? 1 : 0;
            parameters["$id"].Value = id;
            parameters["$account"].Value = accountIds[i % accountIds.Count];
            parameters["$created"].Value = ToStore(created);
            parameters["$expires"].Value = ToStore(created + TimeSpan.FromDays(30));
            parameters["$revoked"].Value = revoked ? ToStore(created + ((now - created) / 2)) : DBNull.Value;
            parameters["$reason"].Value = revoked ? "logout" : DBNull.Value;
        });
        seconds["sessions"] = Math.Round(clock.Elapsed.TotalSeconds, 2);

        clock.Restart();
        InTransaction(connection, InsertRefreshToken, counts.Sessions, (parameters, i) =>
        {
            parameters["$session"].Value = sessions[i].Id;
            parameters["$hash"].Value = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RandomBase64Url(32))));
            parameters["$created"].Value = ToStore(sessions[i].Created);
            parameters["$expires"].Value = ToStore(sessions[i].Created + TimeSpan.FromDays(14));
        });
        seconds["refresh_tokens"] = Math.Round(clock.Elapsed.TotalSeconds, 2);

        // Revoked access-token ids whose tokens (one-hour lifetime) expire over the next hour:
        // the server must keep every one as a live revocation, the worst case for it.
        clock.Restart();
        InTransaction(connection, InsertRevokedToken, counts.RevokedTokenIds, (parameters, i) =>
        {
            var expires = now + (TimeSpan.FromHours(1) * (i + 1) / counts.RevokedTokenIds);
            parameters["$jti"].Value = RandomBase64Url(16);
            parameters["$revoked"].Value = ToStore(expires - TimeSpan.FromHours(1));
            parameters["$expires"].Value = ToStore(expires);
        });
        seconds["revoked_tokens"] = Math.Round(clock.Elapsed.TotalSeconds, 2);
        seconds["total"] = Math.Round(total.Elapsed.TotalSeconds, 2);

        return new JsonObject
        {
            ["accounts"] = counts.Accounts,
            ["sessions"] = counts.Sessions,
            ["sessions_revoked"] = revokedSessions,
            ["refresh_tokens"] = counts.Sessions,
            ["revoked_token_ids"] = counts.RevokedTokenIds,
            ["revoked_token_ids_expire_within_s"] = 3600,
            ["seed_seconds"] = seconds,
        };
    }

    /// <summary>EF Core's DateTimeOffsetToBinaryConverter: ticks / 1000 above 11 bits of offset minutes.</summary>
    internal static long ToStore(DateTimeOffset value) => ((value.Ticks / 1000) << 11) | ((long)value.Offset.TotalMinutes & 0x7FF);

    internal static DateTimeOffset FromStore(long value) => new(new DateTime((value >> 11) * 1000), TimeSpan.FromMinutes((value << 53) >> 53));

    private sealed record TemplateAccount(string PasswordHash, string Role, string Status);

    /// <summary>
    /// The bench user's row, written by the server: its password hash, role and status for the
    /// new rows, and its creation time as a check that <see cref="ToStore"/> is still the
    /// store's format (it was created minutes ago, so it must decode to about now).
    /// </summary>
    private static TemplateAccount ReadTemplateAccount(SqliteConnection connection, DateTimeOffset now)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT PasswordHash, Role, Status, CreatedAt FROM accounts WHERE NormalizedEmail = $email";
        command.Parameters.AddWithValue("$email", Setup.UserEmail.ToUpperInvariant());
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException($"The store has no account {Setup.UserEmail} to copy a password hash from.");
        }

        var created = FromStore(reader.GetInt64(3));
        if (created > now + TimeSpan.FromMinutes(1) || created < now - TimeSpan.FromHours(6))
        {
            throw new InvalidOperationException(
                $"{Setup.UserEmail} was created just now but its CreatedAt ({reader.GetInt64(3)}) decodes to {created:O}: "
                + "the store no longer keeps DateTimeOffset as EF Core's DateTimeOffsetToBinaryConverter; update LargeStore.ToStore.");
        }

        return new TemplateAccount(reader.GetString(0), reader.GetString(1), reader.GetString(2));
    }

    private static void InTransaction(SqliteConnection connection, string sql, int rows, Action<SqliteParameterCollection, int> bind)
    {
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in System.Text.RegularExpressions.Regex.Matches(sql, @"\$[a-z]+").Select(m => m.Value).Distinct())
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        for (var i = 0; i < rows; i++)
        {
            bind(command.Parameters, i);
            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string RandomBase64Url(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        RandomNumberGenerator.Fill(buffer);
        return Base64Url.EncodeToString(buffer);
    }
}
