using System.Net;
using System.Net.Sockets;

namespace TokenServer.Hosting;

/// <summary>
/// The key under which a client's requests are counted (rate limits, login failures). An IPv6
/// client usually holds a whole /64 (RFC 4291 §2.5.1 interface identifiers, RFC 8981 temporary
/// addresses), so counting per address would give it 2^64 fresh budgets: IPv6 is keyed by its
/// /64 prefix, IPv4 (and IPv4-mapped IPv6) by the address.
/// </summary>
public static class ClientAddress
{
    public static string PartitionOf(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
