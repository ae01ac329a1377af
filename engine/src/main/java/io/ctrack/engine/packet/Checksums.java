package io.ctrack.engine.packet;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

/**
 * The Internet checksum (RFC 1071) over buffer ranges, with IPv4 and IPv6 pseudo-headers, as Open vSwitch's
 * {@code csum()}, {@code packet_csum_pseudoheader()} and {@code packet_csum_upperlayer6()} compute it.
 * <p>
 * Partial sums are kept unfolded in a {@code long}; {@link #finish(long)} folds and complements. A range whose
 * sum {@link #finish(long) finishes} to zero verifies.
 */
public final class Checksums
{
    private Checksums()
    {
    }

    /**
     * Adds {@code length} bytes at {@code offset} to {@code partial}, as 16-bit big-endian words; an odd last
     * byte is the high byte of a zero-padded word.
     */
    public static long add(final long partial, final DirectBuffer buffer, final int offset, final int length)
    {
        long sum = partial;
        int i = offset;
        final int end = offset + length;
        while (end - i >= 4)
        {
            sum += buffer.getInt(i, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
            i += 4;
        }
        if (end - i >= 2)
        {
            sum += buffer.getShort(i, ByteOrder.BIG_ENDIAN) & 0xFFFF;
            i += 2;
        }
        if (i < end)
        {
            sum += (buffer.getByte(i) & 0xFF) << 8;
        }
        return sum;
    }

    /** Adds a 16-bit value. */
    public static long add16(final long partial, final int value)
    {
        return partial + (value & 0xFFFF);
    }

    /** Adds a 32-bit value as two 16-bit words. */
    public static long add32(final long partial, final int value)
    {
        return partial + (value & 0xFFFF_FFFFL);
    }

    /** Folds a partial sum to 16 bits and complements it. Zero means a range that included its checksum verifies. */
    public static int finish(final long partial)
    {
        long sum = partial;
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)(~sum & 0xFFFF);
    }

    /**
     * The checksum of an IPv4 header of {@code length} bytes (a multiple of 4, at least 20): zero when the header
     * holds its correct checksum. Reads 8 bytes at a time.
     */
    public static int ipv4Header(final DirectBuffer buffer, final int offset, final int length)
    {
        long sum = 0;
        int i = offset;
        final int end = offset + length;
        while (end - i >= 8)
        {
            final long v = buffer.getLong(i, ByteOrder.BIG_ENDIAN);
            sum += (v >>> 32) + (v & 0xFFFF_FFFFL);
            i += 8;
        }
        if (i < end)
        {
            sum += buffer.getInt(i, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
        }
        return finish(sum);
    }

    /** The checksum of a range: zero when the range holds a correct checksum of itself (an IPv4 header). */
    public static int checksum(final DirectBuffer buffer, final int offset, final int length)
    {
        return finish(add(0, buffer, offset, length));
    }

    /**
     * IPv4 pseudo-header sum for the IPv4 header at {@code ipOffset}: source, destination, protocol and the
     * upper-layer length taken from the header (total length minus header length), as Open vSwitch does.
     */
    public static long ipv4PseudoHeader(final DirectBuffer buffer, final int ipOffset)
    {
        long sum = 0;
        sum = add32(sum, buffer.getInt(ipOffset + 12, ByteOrder.BIG_ENDIAN));
        sum = add32(sum, buffer.getInt(ipOffset + 16, ByteOrder.BIG_ENDIAN));
        sum = add16(sum, buffer.getByte(ipOffset + 9) & 0xFF);
        final int totalLength = buffer.getShort(ipOffset + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final int headerLength = (buffer.getByte(ipOffset) & 0x0F) * 4;
        return add16(sum, totalLength - headerLength);
    }

    /** IPv6 pseudo-header sum: the header's source and destination, {@code l4Protocol} and {@code l4Length}. */
    public static long ipv6PseudoHeader(
        final DirectBuffer buffer, final int ipOffset, final int l4Protocol, final int l4Length)
    {
        long sum = add(0, buffer, ipOffset + 8, 32);
        sum = add16(sum, l4Protocol);
        return add16(sum, l4Length);
    }

    /** Verifies a TCP, UDP or ICMPv4-style checksum over an upper-layer range behind an IPv4 header. */
    public static boolean ipv4UpperLayerValid(
        final DirectBuffer buffer, final int ipOffset, final int l4Offset, final int l4Length)
    {
        return finish(add(ipv4PseudoHeader(buffer, ipOffset), buffer, l4Offset, l4Length)) == 0;
    }

    /** Verifies an upper-layer checksum behind an IPv6 header (the length is taken modulo 2^16 as OVS does). */
    public static boolean ipv6UpperLayerValid(
        final DirectBuffer buffer, final int ipOffset, final int l4Protocol, final int l4Offset, final int l4Length)
    {
        final int length16 = l4Length & 0xFFFF;
        return finish(add(ipv6PseudoHeader(buffer, ipOffset, l4Protocol, length16), buffer, l4Offset, length16)) == 0;
    }

    /**
     * RFC 1624 incremental update: the new checksum of a packet whose checksum field held {@code oldChecksum}
     * after a 16-bit field changed from {@code oldValue} to {@code newValue}.
     */
    public static int update16(final int oldChecksum, final int oldValue, final int newValue)
    {
        final long sum = (~oldChecksum & 0xFFFF) + (~oldValue & 0xFFFF) + (newValue & 0xFFFF);
        return finish(sum);
    }

    /** As {@link #update16} for a 32-bit field. */
    public static int update32(final int oldChecksum, final int oldValue, final int newValue)
    {
        return update16(update16(oldChecksum, oldValue & 0xFFFF, newValue & 0xFFFF), oldValue >>> 16, newValue >>> 16);
    }
}
