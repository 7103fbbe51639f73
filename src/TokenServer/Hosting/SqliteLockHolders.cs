using System.Globalization;
using Microsoft.Data.Sqlite;

namespace TokenServer.Hosting;

/// <summary>
/// Names the processes that may hold a SQLite file's lock, for the log. SQLite does not say who
/// holds it; on Linux, /proc/locks lists every POSIX lock with its owner's pid, and /proc/PID/fd
/// shows which processes have the file open: the processes in both are the candidates. On
/// other systems the holder cannot be known, and the log says so.
/// </summary>
public static class SqliteLockHolders
{
    public static string Describe(string? connectionString)
    {
        string path;
        try
        {
            path = Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource);
        }
        catch (ArgumentException)
        {
            return "the store's file could not be named, so its lock holder cannot be found";
        }

        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/locks"))
        {
            return $"the process holding {path} cannot be known on this system (SQLite does not record it)";
        }

        try
        {
            var locking = File.ReadLines("/proc/locks")
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length > 5 && f[1] is "POSIX" or "OFDLCK")
                .Select(f => int.TryParse(f[4], CultureInfo.InvariantCulture, out var pid) ? pid : -1)
                .Where(pid => pid > 0)
                .ToHashSet();
            var files = new[] { path, path + "-wal", path + "-shm" };
            var holders = locking.Where(pid => HasOpen(pid, files)).Order().Select(pid => $"{pid.ToString(CultureInfo.InvariantCulture)} ({Name(pid)})").ToList();
            var self = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            return holders.Count == 0
                ? $"no process with {path} open holds a POSIX lock now (the holder may have let go); this process is {self}"
                : $"processes with {path} open that hold file locks: {string.Join(", ", holders)}; this process is {self}";
        }
        catch (IOException e)
        {
            return $"the lock holder of {path} could not be read from /proc: {e.Message}";
        }
        catch (UnauthorizedAccessException e)
        {
            return $"the lock holder of {path} could not be read from /proc: {e.Message}";
        }
    }

    private static bool HasOpen(int pid, string[] files)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd")
                .Select(fd => new FileInfo(fd).LinkTarget)
                .Any(target => target is not null && files.Contains(target, StringComparer.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Name(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "name unknown";
        }
    }
}
