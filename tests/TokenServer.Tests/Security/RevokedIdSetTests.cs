using System.Buffers.Text;
using System.Security.Cryptography;
using TokenServer.Tokens;

namespace TokenServer.Tests.Security;

/// <summary>
/// The in-memory revocation set behind every token check: exact at a hundred thousand ids
/// (past the point where additions are merged into the sorted array), forgets ids only once
/// they expire, and never confuses two distinct ids.
/// </summary>
public sealed class RevokedIdSetTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static string NewId() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    [Fact]
    public void AfterManyAdditions_EveryAddedIdIsRevoked_AndNoOther()
    {
        var set = new RevokedIdSet();
        var added = Enumerable.Range(0, 100_000).Select(_ => NewId()).ToList();
        foreach (var id in added)
        {
            set.Add(id, Now.AddHours(1));
        }

        set.Prune(Now);

        Assert.All(added, id => Assert.True(set.Contains(id)));
        Assert.Equal(0, Enumerable.Range(0, 10_000).Count(_ => set.Contains(NewId())));
        Assert.Equal(100_000, set.Count);
    }

    [Fact]
    public async Task BulkLoad_FromTheStore_JoinsSingleAdditions()
    {
        var set = new RevokedIdSet();
        var single = NewId();
        set.Add(single, Now.AddHours(1));
        var loaded = Enumerable.Range(0, 200_000).Select(_ => NewId()).ToList();

        await set.AddManyAsync(loaded.Select(id => (id, Now.AddHours(1))).Append(("legacy-id", Now.AddHours(1))).ToAsyncEnumerable(), CancellationToken.None);
        set.Prune(Now);

        Assert.All(loaded, id => Assert.True(set.Contains(id)));
        Assert.True(set.Contains(single));
        Assert.True(set.Contains("legacy-id"));
        Assert.Equal(200_002, set.Count);
    }

    [Fact]
    public async Task PollsThatReReadTheSameRows_HoldEachIdOnce()
    {
        var set = new RevokedIdSet();
        var rows = Enumerable.Range(0, 10).Select(_ => (NewId(), Now.AddHours(1))).ToList();

        await set.AddManyAsync(rows.ToAsyncEnumerable(), CancellationToken.None);
        set.Prune(Now);
        await set.AddManyAsync(rows.ToAsyncEnumerable(), CancellationToken.None);

        Assert.All(rows, row => Assert.True(set.Contains(row.Item1)));
        Assert.Equal(10, set.Count);
    }

    [Fact]
    public void ExpiredIds_AreForgotten_LiveOnesKept()
    {
        var set = new RevokedIdSet();
        var shortLived = Enumerable.Range(0, 70_000).Select(_ => NewId()).ToList();
        var longLived = Enumerable.Range(0, 1_000).Select(_ => NewId()).ToList();
        shortLived.ForEach(id => set.Add(id, Now.AddMinutes(5)));
        longLived.ForEach(id => set.Add(id, Now.AddHours(1)));
        set.Add("not-one-of-ours", Now.AddMinutes(5));

        set.Prune(Now);
        Assert.True(set.Contains(shortLived[0]));
        set.Prune(Now.AddMinutes(10));

        Assert.DoesNotContain(shortLived, set.Contains);
        Assert.False(set.Contains("not-one-of-ours"));
        Assert.All(longLived, id => Assert.True(set.Contains(id)));
        Assert.Equal(1_000, set.Count);
    }

    [Fact]
    public void ReAddedId_KeepsItsLaterExpiry()
    {
        var set = new RevokedIdSet();
        var id = NewId();
        set.Add(id, Now.AddMinutes(5));
        set.Prune(Now);
        set.Add(id, Now.AddHours(1));

        set.Prune(Now.AddMinutes(10));

        Assert.True(set.Contains(id));
    }

    [Fact]
    public void IdsThatDecodeToTheSameBytes_AreStillDifferentIds()
    {
        // The last base64url character of a 16-byte id carries 4 unused bits: "…A" and "…B"
        // decode to the same bytes, but only the canonical one was minted (and revoked).
        var set = new RevokedIdSet();
        var canonical = Base64Url.EncodeToString(new byte[16]);
        var variant = canonical[..^1] + "B";
        set.Add(variant, Now.AddHours(1));

        Assert.True(set.Contains(variant));
        Assert.False(set.Contains(canonical));
    }
}
