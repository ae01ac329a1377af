package io.ctrack.engine.nat;

import io.ctrack.engine.testing.TestPackets;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reads addresses and ports out of an untagged Ethernet frame and checks every checksum it holds by computing it
 * from scratch with the test utilities' own RFC 1071 and CRC32c code (not the engine's), so a rewrite is verified
 * independently of the code that made it.
 */
final class FrameFacts
{
    private static final int ETH = 14;

    private FrameFacts()
    {
    }

    static boolean isV6(final byte[] f)
    {
        return ((f[12] & 0xFF) << 8 | (f[13] & 0xFF)) == TestPackets.ETH_IPV6;
    }

    static int l4(final byte[] f)
    {
        return isV6(f) ? ETH + 40 : ETH + (f[ETH] & 0x0F) * 4;
    }

    static int proto(final byte[] f)
    {
        return isV6(f) ? f[ETH + 6] & 0xFF : f[ETH + 9] & 0xFF;
    }

    static String src(final byte[] f)
    {
        return address(f, isV6(f) ? ETH + 8 : ETH + 12, isV6(f) ? 16 : 4);
    }

    static String dst(final byte[] f)
    {
        return address(f, isV6(f) ? ETH + 24 : ETH + 16, isV6(f) ? 16 : 4);
    }

    static int sport(final byte[] f)
    {
        return u16(f, l4(f));
    }

    static int dport(final byte[] f)
    {
        return u16(f, l4(f) + 2);
    }

    static int icmpId(final byte[] f)
    {
        return u16(f, l4(f) + 4);
    }

    static String address(final byte[] f, final int at, final int length)
    {
        try
        {
            return InetAddress.getByAddress(Arrays.copyOfRange(f, at, at + length)).getHostAddress();
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    static int u16(final byte[] f, final int at)
    {
        return (f[at] & 0xFF) << 8 | (f[at + 1] & 0xFF);
    }

    /** Asserts the IPv4 header checksum and the L4 checksum (TCP, UDP, ICMP, ICMPv6, SCTP) of the frame. */
    static void assertChecksums(final byte[] f)
    {
        final int l3 = ETH;
        final int l4 = l4(f);
        final int l4Length;
        if (isV6(f))
        {
            l4Length = u16(f, l3 + 4);
        }
        else
        {
            assertEquals(0, TestPackets.internetChecksum(f, l3, l4 - l3, 0), "IPv4 header checksum");
            l4Length = u16(f, l3 + 2) - (l4 - l3);
        }
        final int proto = proto(f);
        switch (proto)
        {
            case TestPackets.PROTO_TCP:
            case TestPackets.PROTO_UDP:
                if (proto == TestPackets.PROTO_UDP && !isV6(f) && u16(f, l4 + 6) == 0)
                {
                    return;
                }
                assertEquals(0, TestPackets.internetChecksum(f, l4, l4Length, pseudo(f, proto, l4Length)),
                    "L4 checksum");
                return;
            case TestPackets.PROTO_ICMP:
                assertEquals(0, TestPackets.internetChecksum(f, l4, l4Length, 0), "ICMP checksum");
                return;
            case TestPackets.PROTO_ICMPV6:
                assertEquals(0, TestPackets.internetChecksum(f, l4, l4Length, pseudo(f, proto, l4Length)),
                    "ICMPv6 checksum");
                return;
            case TestPackets.PROTO_SCTP:
                final int stored = (f[l4 + 8] & 0xFF) | (f[l4 + 9] & 0xFF) << 8 | (f[l4 + 10] & 0xFF) << 16
                    | (f[l4 + 11] & 0xFF) << 24;
                assertEquals(TestPackets.sctpChecksum(f, l4, l4Length), stored, "SCTP CRC32c");
                return;
            default:
                return;
        }
    }

    private static long pseudo(final byte[] f, final int proto, final int l4Length)
    {
        long sum = 0;
        final int from = isV6(f) ? ETH + 8 : ETH + 12;
        final int words = isV6(f) ? 16 : 4;
        for (int i = 0; i < words; i++)
        {
            sum += u16(f, from + 2 * i);
        }
        return sum + proto + l4Length;
    }
}
