package io.ctrack.engine.packet;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

import static io.ctrack.engine.packet.Protocols.*;

/**
 * Writes well-formed Ethernet frames (IPv4 or IPv6; TCP, UDP, ICMP, ICMPv6) with correct checksums, for
 * synthetic traffic: the demo, the benchmarks and tests. Addresses are IPv4 values as numbers, IPv6 as two
 * 64-bit halves. Every method returns the frame length. Stateless.
 */
public final class FrameWriter
{
    private static final long MAC_DST = 0x5054_0000_000AL;
    private static final long MAC_SRC = 0x5054_0000_0009L;

    private FrameWriter()
    {
    }

    private static int ethernet(final MutableDirectBuffer b, final int at, final int etherType)
    {
        b.putShort(at, (short)(MAC_DST >>> 32), ByteOrder.BIG_ENDIAN);
        b.putInt(at + 2, (int)MAC_DST, ByteOrder.BIG_ENDIAN);
        b.putShort(at + 6, (short)(MAC_SRC >>> 32), ByteOrder.BIG_ENDIAN);
        b.putInt(at + 8, (int)MAC_SRC, ByteOrder.BIG_ENDIAN);
        b.putShort(at + 12, (short)etherType, ByteOrder.BIG_ENDIAN);
        return ETH_HEADER_LENGTH;
    }

    private static void ipv4(final MutableDirectBuffer b, final int ip, final int proto, final int src, final int dst,
        final int l4Length, final int id, final int fragField)
    {
        b.putByte(ip, (byte)0x45);
        b.putByte(ip + 1, (byte)0);
        b.putShort(ip + 2, (short)(IPV4_HEADER_LENGTH + l4Length), ByteOrder.BIG_ENDIAN);
        b.putShort(ip + 4, (short)id, ByteOrder.BIG_ENDIAN);
        b.putShort(ip + 6, (short)fragField, ByteOrder.BIG_ENDIAN);
        b.putByte(ip + 8, (byte)64);
        b.putByte(ip + 9, (byte)proto);
        b.putShort(ip + 10, (short)0, ByteOrder.BIG_ENDIAN);
        b.putInt(ip + 12, src, ByteOrder.BIG_ENDIAN);
        b.putInt(ip + 16, dst, ByteOrder.BIG_ENDIAN);
        b.putShort(ip + 10, (short)Checksums.checksum(b, ip, IPV4_HEADER_LENGTH), ByteOrder.BIG_ENDIAN);
    }

    private static void ipv6(final MutableDirectBuffer b, final int ip, final int nextHeader, final long srcHi,
        final long srcLo, final long dstHi, final long dstLo, final int payloadLength)
    {
        b.putInt(ip, 0x6000_0000, ByteOrder.BIG_ENDIAN);
        b.putShort(ip + 4, (short)payloadLength, ByteOrder.BIG_ENDIAN);
        b.putByte(ip + 6, (byte)nextHeader);
        b.putByte(ip + 7, (byte)64);
        b.putLong(ip + 8, srcHi, ByteOrder.BIG_ENDIAN);
        b.putLong(ip + 16, srcLo, ByteOrder.BIG_ENDIAN);
        b.putLong(ip + 24, dstHi, ByteOrder.BIG_ENDIAN);
        b.putLong(ip + 32, dstLo, ByteOrder.BIG_ENDIAN);
    }

    private static void tcpHeader(final MutableDirectBuffer b, final int l4, final int srcPort, final int dstPort,
        final int seq, final int ack, final int flags, final int window, final int payload)
    {
        b.putShort(l4, (short)srcPort, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 2, (short)dstPort, ByteOrder.BIG_ENDIAN);
        b.putInt(l4 + 4, seq, ByteOrder.BIG_ENDIAN);
        b.putInt(l4 + 8, ack, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 12, (short)(5 << 12 | (flags & 0x0FFF)), ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 14, (short)window, ByteOrder.BIG_ENDIAN);
        b.putInt(l4 + 16, 0, ByteOrder.BIG_ENDIAN);
        b.setMemory(l4 + TCP_HEADER_LENGTH, payload, (byte)'x');
    }

    /** IPv4 TCP segment with {@code payload} bytes of data. */
    public static int tcp4(final MutableDirectBuffer b, final int at, final int src, final int srcPort, final int dst,
        final int dstPort, final int seq, final int ack, final int flags, final int window, final int payload)
    {
        final int ip = at + ethernet(b, at, ETH_TYPE_IPV4);
        final int l4 = ip + IPV4_HEADER_LENGTH;
        final int l4Length = TCP_HEADER_LENGTH + payload;
        ipv4(b, ip, IPPROTO_TCP, src, dst, l4Length, 0, 0x4000);
        tcpHeader(b, l4, srcPort, dstPort, seq, ack, flags, window, payload);
        b.putShort(l4 + 16, (short)Checksums.finish(Checksums.add(Checksums.ipv4PseudoHeader(b, ip), b, l4, l4Length)),
            ByteOrder.BIG_ENDIAN);
        return l4 + l4Length - at;
    }

    /** IPv6 TCP segment. */
    public static int tcp6(final MutableDirectBuffer b, final int at, final long srcHi, final long srcLo,
        final int srcPort, final long dstHi, final long dstLo, final int dstPort, final int seq, final int ack,
        final int flags, final int window, final int payload)
    {
        final int ip = at + ethernet(b, at, ETH_TYPE_IPV6);
        final int l4 = ip + IPV6_HEADER_LENGTH;
        final int l4Length = TCP_HEADER_LENGTH + payload;
        ipv6(b, ip, IPPROTO_TCP, srcHi, srcLo, dstHi, dstLo, l4Length);
        tcpHeader(b, l4, srcPort, dstPort, seq, ack, flags, window, payload);
        b.putShort(l4 + 16, (short)Checksums.finish(Checksums.add(
            Checksums.ipv6PseudoHeader(b, ip, IPPROTO_TCP, l4Length), b, l4, l4Length)), ByteOrder.BIG_ENDIAN);
        return l4 + l4Length - at;
    }

    /** IPv4 UDP datagram; {@code checksum} false leaves the UDP checksum 0 (legal on IPv4). */
    public static int udp4(final MutableDirectBuffer b, final int at, final int src, final int srcPort, final int dst,
        final int dstPort, final int payload, final boolean checksum)
    {
        final int ip = at + ethernet(b, at, ETH_TYPE_IPV4);
        final int l4 = ip + IPV4_HEADER_LENGTH;
        final int l4Length = UDP_HEADER_LENGTH + payload;
        ipv4(b, ip, IPPROTO_UDP, src, dst, l4Length, 0, 0);
        b.putShort(l4, (short)srcPort, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 2, (short)dstPort, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 4, (short)l4Length, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 6, (short)0, ByteOrder.BIG_ENDIAN);
        b.setMemory(l4 + UDP_HEADER_LENGTH, payload, (byte)'u');
        if (checksum)
        {
            final int sum = Checksums.finish(Checksums.add(Checksums.ipv4PseudoHeader(b, ip), b, l4, l4Length));
            b.putShort(l4 + 6, (short)(sum == 0 ? 0xFFFF : sum), ByteOrder.BIG_ENDIAN);
        }
        return l4 + l4Length - at;
    }

    /** IPv6 UDP datagram (checksum always computed: 0 is not allowed in IPv6). */
    public static int udp6(final MutableDirectBuffer b, final int at, final long srcHi, final long srcLo,
        final int srcPort, final long dstHi, final long dstLo, final int dstPort, final int payload)
    {
        final int ip = at + ethernet(b, at, ETH_TYPE_IPV6);
        final int l4 = ip + IPV6_HEADER_LENGTH;
        final int l4Length = UDP_HEADER_LENGTH + payload;
        ipv6(b, ip, IPPROTO_UDP, srcHi, srcLo, dstHi, dstLo, l4Length);
        b.putShort(l4, (short)srcPort, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 2, (short)dstPort, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 4, (short)l4Length, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 6, (short)0, ByteOrder.BIG_ENDIAN);
        b.setMemory(l4 + UDP_HEADER_LENGTH, payload, (byte)'u');
        final int sum = Checksums.finish(Checksums.add(
            Checksums.ipv6PseudoHeader(b, ip, IPPROTO_UDP, l4Length), b, l4, l4Length));
        b.putShort(l4 + 6, (short)(sum == 0 ? 0xFFFF : sum), ByteOrder.BIG_ENDIAN);
        return l4 + l4Length - at;
    }

    /** IPv4 ICMP echo request ({@code reply} false) or reply. */
    public static int icmp4Echo(final MutableDirectBuffer b, final int at, final int src, final int dst,
        final boolean reply, final int id, final int sequence)
    {
        final int ip = at + ethernet(b, at, ETH_TYPE_IPV4);
        final int l4 = ip + IPV4_HEADER_LENGTH;
        final int l4Length = ICMP_HEADER_LENGTH + 16;
        ipv4(b, ip, IPPROTO_ICMP, src, dst, l4Length, 0, 0);
        b.putByte(l4, (byte)(reply ? ICMP4_ECHO_REPLY : ICMP4_ECHO_REQUEST));
        b.putByte(l4 + 1, (byte)0);
        b.putShort(l4 + 2, (short)0, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 4, (short)id, ByteOrder.BIG_ENDIAN);
        b.putShort(l4 + 6, (short)sequence, ByteOrder.BIG_ENDIAN);
        b.setMemory(l4 + ICMP_HEADER_LENGTH, 16, (byte)'p');
        b.putShort(l4 + 2, (short)Checksums.checksum(b, l4, l4Length), ByteOrder.BIG_ENDIAN);
        return l4 + l4Length - at;
    }

    /**
     * IPv4 ICMP error ({@code type}/{@code code}) from {@code src} to {@code dst} quoting the IP datagram of the
     * frame at {@code quotedAt} (its IP header and the first {@code quotedL4Bytes} bytes after it).
     */
    public static int icmp4Error(final MutableDirectBuffer b, final int at, final int src, final int dst,
        final int type, final int code, final MutableDirectBuffer quoted, final int quotedAt, final int quotedL4Bytes)
    {
        final int ip = at + ethernet(b, at, ETH_TYPE_IPV4);
        final int l4 = ip + IPV4_HEADER_LENGTH;
        final int quotedIp = quotedAt + ETH_HEADER_LENGTH;
        final int quotedLength = (quoted.getByte(quotedIp) & 0x0F) * 4 + quotedL4Bytes;
        final int l4Length = ICMP_HEADER_LENGTH + quotedLength;
        ipv4(b, ip, IPPROTO_ICMP, src, dst, l4Length, 0, 0);
        b.putByte(l4, (byte)type);
        b.putByte(l4 + 1, (byte)code);
        b.putShort(l4 + 2, (short)0, ByteOrder.BIG_ENDIAN);
        b.putInt(l4 + 4, 0, ByteOrder.BIG_ENDIAN);
        b.putBytes(l4 + ICMP_HEADER_LENGTH, quoted, quotedIp, quotedLength);
        b.putShort(l4 + 2, (short)Checksums.checksum(b, l4, l4Length), ByteOrder.BIG_ENDIAN);
        return l4 + l4Length - at;
    }

    /**
     * One IPv4 fragment of a UDP datagram of {@code udpPayload} bytes: the bytes of the UDP datagram from
     * {@code fragOffset} (a multiple of 8) of which there are {@code length}, with the MF flag unless
     * {@code last}. The UDP checksum covers the whole datagram.
     */
    public static int udp4Fragment(final MutableDirectBuffer b, final int at, final int src, final int srcPort,
        final int dst, final int dstPort, final int udpPayload, final int ipId, final int fragOffset, final int length,
        final boolean last, final MutableDirectBuffer scratch)
    {
        // Build the whole datagram in scratch, then cut the fragment out of it.
        final int whole = udp4(scratch, 0, src, srcPort, dst, dstPort, udpPayload, true);
        final int l4 = ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH;
        final int ip = at + ethernet(b, at, ETH_TYPE_IPV4);
        final int bytes = Math.min(length, whole - l4 - fragOffset);
        ipv4(b, ip, IPPROTO_UDP, src, dst, bytes, ipId, (last ? 0 : IP_MORE_FRAGMENTS) | (fragOffset / 8));
        b.putBytes(ip + IPV4_HEADER_LENGTH, scratch, l4 + fragOffset, bytes);
        return ETH_HEADER_LENGTH + IPV4_HEADER_LENGTH + bytes;
    }

    /** A non-IP frame (ARP request). */
    public static int arp(final MutableDirectBuffer b, final int at, final int senderIp, final int targetIp)
    {
        final int p = at + ethernet(b, at, ETH_TYPE_ARP);
        b.putLong(p, 0x0001_0800_0604_0001L, ByteOrder.BIG_ENDIAN);
        b.putShort(p + 8, (short)(MAC_SRC >>> 32), ByteOrder.BIG_ENDIAN);
        b.putInt(p + 10, (int)MAC_SRC, ByteOrder.BIG_ENDIAN);
        b.putInt(p + 14, senderIp, ByteOrder.BIG_ENDIAN);
        b.setMemory(p + 18, 6, (byte)0);
        b.putInt(p + 24, targetIp, ByteOrder.BIG_ENDIAN);
        return ETH_HEADER_LENGTH + 28;
    }

    /** An IPv4 address from its four octets. */
    public static int ipv4Address(final int a, final int b, final int c, final int d)
    {
        return a << 24 | b << 16 | c << 8 | d;
    }
}
