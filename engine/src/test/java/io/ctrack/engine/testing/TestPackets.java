package io.ctrack.engine.testing;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Builds Ethernet frames for tests: IPv4 (options, fragment fields) and IPv6 (extension headers, fragment
 * headers) over 802.1Q/802.1ad tags, LLC/SNAP or MPLS, carrying TCP (flags, sequence numbers, window, options,
 * payload), UDP, ICMP and ICMPv6 (echo, errors quoting an inner datagram), SCTP (chunks, CRC32c) or any other
 * protocol. Lengths and checksums are correct unless a knob breaks them on purpose ({@link PacketBuilder#badL4Checksum()},
 * {@link PacketBuilder#totalLength(int)}, {@link PacketBuilder#truncateTo(int)}, ...).
 * <p>
 * Checksums are computed here (RFC 1071, and {@link CRC32C} for SCTP), independently of the engine's own
 * {@code Checksums} and {@code Crc32c}, so a test cannot pass because both sides share a bug.
 * <pre>
 * byte[] syn = TestPackets.ipv4("10.1.1.1", "10.1.1.2").tcp(40000, 80).flags(TestPackets.SYN).seq(1000)
 *     .window(64240).wscale(7).build();
 * </pre>
 * Builders are mutable and not thread-safe; {@link PacketBuilder#build()} may be called repeatedly.
 */
public final class TestPackets
{
    public static final int ETH_IPV4 = 0x0800;
    public static final int ETH_ARP = 0x0806;
    public static final int ETH_VLAN = 0x8100;
    public static final int ETH_QINQ = 0x88A8;
    public static final int ETH_IPV6 = 0x86DD;
    public static final int ETH_MPLS = 0x8847;

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;

    public static final int PROTO_ICMP = 1;
    public static final int PROTO_IPIP = 4;
    public static final int PROTO_TCP = 6;
    public static final int PROTO_UDP = 17;
    public static final int PROTO_GRE = 47;
    public static final int PROTO_ICMPV6 = 58;
    public static final int PROTO_SCTP = 132;

    public static final int EXT_HOP_BY_HOP = 0;
    public static final int EXT_ROUTING = 43;
    public static final int EXT_FRAGMENT = 44;
    public static final int EXT_AH = 51;
    public static final int EXT_DEST_OPTS = 60;

    public static final int ETH_HEADER_LENGTH = 14;

    static final byte[] DST_MAC = { 0x02, 0, 0, 0, 0, 0x02 };
    static final byte[] SRC_MAC = { 0x02, 0, 0, 0, 0, 0x01 };

    private TestPackets()
    {
    }

    /** An IPv4 packet from {@code src} to {@code dst} (dotted quads). */
    public static PacketBuilder ipv4(final String src, final String dst)
    {
        return new PacketBuilder(false, address(src, 4), address(dst, 4));
    }

    /** An IPv6 packet from {@code src} to {@code dst} (any textual IPv6 form). */
    public static PacketBuilder ipv6(final String src, final String dst)
    {
        return new PacketBuilder(true, address(src, 16), address(dst, 16));
    }

    /** An untagged Ethernet frame with {@code etherType} and {@code payload}. */
    public static byte[] ethernet(final int etherType, final byte[] payload)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(DST_MAC);
        out.writeBytes(SRC_MAC);
        put16(out, etherType);
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /** An ARP request (Ethernet/IPv4) asking for {@code targetIp}. */
    public static byte[] arpRequest(final String senderIp, final String targetIp)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        put16(out, 1);
        put16(out, ETH_IPV4);
        out.write(6);
        out.write(4);
        put16(out, 1);
        out.writeBytes(SRC_MAC);
        out.writeBytes(address(senderIp, 4));
        out.writeBytes(new byte[6]);
        out.writeBytes(address(targetIp, 4));
        return ethernet(ETH_ARP, out.toByteArray());
    }

    /** Wraps a frame in a buffer of exactly its size, so any read past its end fails loudly. */
    public static UnsafeBuffer buffer(final byte[] frame)
    {
        return new UnsafeBuffer(frame);
    }

    /**
     * Splits the IPv4 datagram of {@code datagram} into fragments: the first carries {@code leadingSizes[0]} bytes
     * of the IP payload, the next {@code leadingSizes[1]}, ..., the last the rest. Leading sizes must be multiples
     * of 8. Every fragment gets the datagram's header (same IP id), its own total length, offset, MF flag and
     * header checksum, in an untagged Ethernet frame.
     */
    public static List<byte[]> fragmentsV4(final PacketBuilder datagram, final int... leadingSizes)
    {
        if (datagram.v6)
        {
            throw new IllegalArgumentException("fragmentsV4 needs an IPv4 datagram");
        }
        final byte[] l3 = datagram.datagram();
        final int headerLength = (l3[0] & 0x0F) * 4;
        final byte[] payload = Arrays.copyOfRange(l3, headerLength, l3.length);
        final List<byte[]> frames = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i <= leadingSizes.length; i++)
        {
            final boolean last = i == leadingSizes.length;
            final int size = last ? payload.length - offset : leadingSizes[i];
            if (!last && size % 8 != 0)
            {
                throw new IllegalArgumentException("non-last fragment sizes must be multiples of 8, got " + size);
            }
            final byte[] fragment = new byte[headerLength + size];
            System.arraycopy(l3, 0, fragment, 0, headerLength);
            System.arraycopy(payload, offset, fragment, headerLength, size);
            setFragmentFields(fragment, headerLength, offset, !last);
            frames.add(ethernet(ETH_IPV4, fragment));
            offset += size;
        }
        return frames;
    }

    /**
     * One IPv4 fragment of {@code datagram}: {@code size} bytes of its IP payload starting at byte
     * {@code offset} (a multiple of 8), with the MF flag as given. For duplicates, overlaps and odd cuts.
     */
    public static byte[] fragmentV4(final PacketBuilder datagram, final int offset, final int size, final boolean more)
    {
        final byte[] l3 = datagram.datagram();
        final int headerLength = (l3[0] & 0x0F) * 4;
        final byte[] fragment = new byte[headerLength + size];
        System.arraycopy(l3, 0, fragment, 0, headerLength);
        System.arraycopy(l3, headerLength + offset, fragment, headerLength, size);
        setFragmentFields(fragment, headerLength, offset, more);
        return ethernet(ETH_IPV4, fragment);
    }

    private static void setFragmentFields(final byte[] ip, final int headerLength, final int offset, final boolean more)
    {
        putShort(ip, 2, ip.length);
        putShort(ip, 6, (more ? 0x2000 : 0) | (offset / 8));
        putShort(ip, 10, 0);
        putShort(ip, 10, internetChecksum(ip, 0, headerLength, 0));
    }

    /**
     * Splits the IPv6 datagram of {@code datagram} into fragments: a fragment header (identification
     * {@code id}) is inserted after the fixed header and everything after the fixed header is the fragmentable
     * part, cut into {@code leadingSizes} (multiples of 8) and the rest.
     */
    public static List<byte[]> fragmentsV6(final PacketBuilder datagram, final int id, final int... leadingSizes)
    {
        if (!datagram.v6)
        {
            throw new IllegalArgumentException("fragmentsV6 needs an IPv6 datagram");
        }
        final byte[] l3 = datagram.datagram();
        final byte[] fragmentable = Arrays.copyOfRange(l3, 40, l3.length);
        final List<byte[]> frames = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i <= leadingSizes.length; i++)
        {
            final boolean last = i == leadingSizes.length;
            final int size = last ? fragmentable.length - offset : leadingSizes[i];
            if (!last && size % 8 != 0)
            {
                throw new IllegalArgumentException("non-last fragment sizes must be multiples of 8, got " + size);
            }
            frames.add(fragmentV6(l3, fragmentable, id, offset, size, !last));
            offset += size;
        }
        return frames;
    }

    /** One IPv6 fragment of {@code datagram} ({@code size} bytes of the fragmentable part from {@code offset}). */
    public static byte[] fragmentV6(
        final PacketBuilder datagram, final int id, final int offset, final int size, final boolean more)
    {
        final byte[] l3 = datagram.datagram();
        return fragmentV6(l3, Arrays.copyOfRange(l3, 40, l3.length), id, offset, size, more);
    }

    private static byte[] fragmentV6(final byte[] l3, final byte[] fragmentable, final int id, final int offset,
        final int size, final boolean more)
    {
        final byte[] fragment = new byte[40 + 8 + size];
        System.arraycopy(l3, 0, fragment, 0, 40);
        fragment[40] = l3[6];
        fragment[41] = 0;
        putShort(fragment, 42, offset | (more ? 1 : 0));
        putInt(fragment, 44, id);
        System.arraycopy(fragmentable, offset, fragment, 48, size);
        fragment[6] = (byte)EXT_FRAGMENT;
        putShort(fragment, 4, 8 + size);
        return ethernet(ETH_IPV6, fragment);
    }

    /** The RFC 1071 checksum of a range, starting from the unfolded sum {@code initial}. */
    public static int internetChecksum(final byte[] b, final int offset, final int length, final long initial)
    {
        long sum = initial;
        int i = offset;
        for (; i + 1 < offset + length; i += 2)
        {
            sum += ((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF);
        }
        if (i < offset + length)
        {
            sum += (b[i] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)(~sum & 0xFFFF);
    }

    /** CRC32c of an SCTP packet with its checksum field taken as zero, as SCTP stores it (little-endian). */
    public static int sctpChecksum(final byte[] sctp, final int offset, final int length)
    {
        final byte[] copy = Arrays.copyOfRange(sctp, offset, offset + length);
        copy[8] = 0;
        copy[9] = 0;
        copy[10] = 0;
        copy[11] = 0;
        final CRC32C crc = new CRC32C();
        crc.update(copy);
        return (int)crc.getValue();
    }

    static byte[] address(final String text, final int length)
    {
        try
        {
            final byte[] raw = InetAddress.getByName(text).getAddress();
            if (raw.length == length)
            {
                return raw;
            }
            if (length == 16 && raw.length == 4)
            {
                // ::ffff:a.b.c.d comes back as an IPv4 address.
                final byte[] mapped = new byte[16];
                mapped[10] = (byte)0xFF;
                mapped[11] = (byte)0xFF;
                System.arraycopy(raw, 0, mapped, 12, 4);
                return mapped;
            }
            throw new IllegalArgumentException("'" + text + "' is not an IPv" + (length == 4 ? 4 : 6) + " address");
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("'" + text + "' is not an IP address literal", ex);
        }
    }

    static void put16(final ByteArrayOutputStream out, final int v)
    {
        out.write((v >>> 8) & 0xFF);
        out.write(v & 0xFF);
    }

    static void put32(final ByteArrayOutputStream out, final int v)
    {
        put16(out, v >>> 16);
        put16(out, v);
    }

    static void putShort(final byte[] b, final int at, final int v)
    {
        b[at] = (byte)(v >>> 8);
        b[at + 1] = (byte)v;
    }

    static void putInt(final byte[] b, final int at, final int v)
    {
        putShort(b, at, v >>> 16);
        putShort(b, at + 2, v);
    }
}
