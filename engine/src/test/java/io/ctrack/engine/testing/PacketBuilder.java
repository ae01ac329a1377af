package io.ctrack.engine.testing;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.ctrack.engine.testing.TestPackets.ETH_IPV4;
import static io.ctrack.engine.testing.TestPackets.ETH_IPV6;
import static io.ctrack.engine.testing.TestPackets.ETH_MPLS;
import static io.ctrack.engine.testing.TestPackets.ETH_QINQ;
import static io.ctrack.engine.testing.TestPackets.ETH_VLAN;
import static io.ctrack.engine.testing.TestPackets.EXT_AH;
import static io.ctrack.engine.testing.TestPackets.EXT_DEST_OPTS;
import static io.ctrack.engine.testing.TestPackets.EXT_FRAGMENT;
import static io.ctrack.engine.testing.TestPackets.EXT_HOP_BY_HOP;
import static io.ctrack.engine.testing.TestPackets.EXT_ROUTING;
import static io.ctrack.engine.testing.TestPackets.PROTO_ICMP;
import static io.ctrack.engine.testing.TestPackets.PROTO_ICMPV6;
import static io.ctrack.engine.testing.TestPackets.PROTO_SCTP;
import static io.ctrack.engine.testing.TestPackets.PROTO_TCP;
import static io.ctrack.engine.testing.TestPackets.PROTO_UDP;
import static io.ctrack.engine.testing.TestPackets.put16;
import static io.ctrack.engine.testing.TestPackets.put32;
import static io.ctrack.engine.testing.TestPackets.putInt;
import static io.ctrack.engine.testing.TestPackets.putShort;

/**
 * One frame under construction, started by {@link TestPackets#ipv4} or {@link TestPackets#ipv6}. Every setter
 * returns {@code this}; {@link #build()} may be called repeatedly. Lengths and checksums are computed at build time
 * unless a setter overrides or breaks them. Mutable, not thread-safe.
 */
public final class PacketBuilder
{
    /** The transport the builder writes. */
    enum L4
    {
        NONE, TCP, UDP, ICMP, SCTP, RAW
    }

    final boolean v6;
    final byte[] src;
    final byte[] dst;

    // L2
    final List<int[]> vlanTags = new ArrayList<>();
    boolean llcSnap;
    final List<Integer> mplsLabels = new ArrayList<>();
    int etherType = -1;
    int padding;

    // IPv4
    int ttl = 64;
    int ipId = 0x1234;
    boolean dontFragment;
    boolean moreFragments;
    int fragmentOffset;
    byte[] ipOptions = new byte[0];
    int ihl = -1;
    int totalLength = -1;
    int ipVersion = -1;
    int ipChecksum = -1;
    boolean badIpChecksum;
    int protocolOverride = -1;

    // IPv6
    final List<int[]> extTypes = new ArrayList<>();
    final List<byte[]> extHeaders = new ArrayList<>();
    int payloadLength = -1;
    int nextHeader = -1;

    // L4
    L4 l4 = L4.NONE;
    int proto = 253;
    int srcPort;
    int dstPort;
    long seq;
    long ack;
    int tcpFlags;
    int window = 65535;
    int wscale = -1;
    int mss = -1;
    byte[] tcpOptions;
    int dataOffset = -1;
    int udpLength = -1;
    int udpChecksum = -1;
    int icmpType;
    int icmpCode;
    int icmpRest;
    int sctpTag;
    final ByteArrayOutputStream sctpChunks = new ByteArrayOutputStream();
    byte[] payload = new byte[0];
    long l4Checksum = -1;
    boolean badL4Checksum;

    // frame
    int truncateTo = -1;

    PacketBuilder(final boolean v6, final byte[] src, final byte[] dst)
    {
        this.v6 = v6;
        this.src = src;
        this.dst = dst;
    }

    // ---- L2 ----------------------------------------------------------------------------------------------

    /** Adds an 802.1Q tag (outermost first). */
    public PacketBuilder vlan(final int vid)
    {
        return vlanTag(ETH_VLAN, vid);
    }

    /** Adds an 802.1ad outer tag and an 802.1Q inner tag. */
    public PacketBuilder qinq(final int outerVid, final int innerVid)
    {
        return vlanTag(ETH_QINQ, outerVid).vlanTag(ETH_VLAN, innerVid);
    }

    /** Adds a tag with any TPID (outermost first). */
    public PacketBuilder vlanTag(final int tpid, final int vid)
    {
        vlanTags.add(new int[] { tpid, vid });
        return this;
    }

    /** 802.3 length field plus LLC/SNAP header (AA AA 03, OUI 0) before the ethertype. */
    public PacketBuilder llcSnap()
    {
        llcSnap = true;
        return this;
    }

    /** Adds an MPLS label (the last one added gets bottom-of-stack) and ethertype 0x8847. */
    public PacketBuilder mpls(final int label)
    {
        mplsLabels.add(label);
        return this;
    }

    /** Overrides the ethertype after tags. */
    public PacketBuilder etherType(final int type)
    {
        etherType = type;
        return this;
    }

    /** Appends {@code bytes} zero bytes after the IP datagram (Ethernet padding). */
    public PacketBuilder pad(final int bytes)
    {
        padding = bytes;
        return this;
    }

    // ---- IPv4 --------------------------------------------------------------------------------------------

    public PacketBuilder ttl(final int value)
    {
        ttl = value;
        return this;
    }

    public PacketBuilder ipId(final int id)
    {
        ipId = id;
        return this;
    }

    public PacketBuilder dontFragment()
    {
        dontFragment = true;
        return this;
    }

    public PacketBuilder moreFragments()
    {
        moreFragments = true;
        return this;
    }

    /** Fragment offset in bytes (a multiple of 8). */
    public PacketBuilder fragmentOffset(final int bytes)
    {
        fragmentOffset = bytes;
        return this;
    }

    /** IPv4 options, padded with zeros to a multiple of 4. */
    public PacketBuilder ipOptions(final byte[] options)
    {
        ipOptions = Arrays.copyOf(options, (options.length + 3) & ~3);
        return this;
    }

    /** Overrides the IHL field (32-bit words); the header checksum is still computed unless broken. */
    public PacketBuilder ihl(final int words)
    {
        ihl = words;
        return this;
    }

    public PacketBuilder totalLength(final int bytes)
    {
        totalLength = bytes;
        return this;
    }

    public PacketBuilder ipVersion(final int version)
    {
        ipVersion = version;
        return this;
    }

    public PacketBuilder ipChecksum(final int value)
    {
        ipChecksum = value;
        return this;
    }

    public PacketBuilder badIpChecksum()
    {
        badIpChecksum = true;
        return this;
    }

    /** Overrides the IPv4 protocol field (the L4 bytes stay as built). */
    public PacketBuilder protocol(final int value)
    {
        protocolOverride = value;
        return this;
    }

    // ---- IPv6 --------------------------------------------------------------------------------------------

    /** An 8-byte hop-by-hop options header (one PadN option). */
    public PacketBuilder hopByHop()
    {
        return extensionHeader(EXT_HOP_BY_HOP, optionsHeader(8));
    }

    /** A hop-by-hop options header of {@code bytes} (a multiple of 8). */
    public PacketBuilder hopByHop(final int bytes)
    {
        return extensionHeader(EXT_HOP_BY_HOP, optionsHeader(bytes));
    }

    /** An 8-byte routing header (type 0, no segments left). */
    public PacketBuilder routing()
    {
        return extensionHeader(EXT_ROUTING, new byte[8]);
    }

    /** An 8-byte destination options header. */
    public PacketBuilder destinationOptions()
    {
        return extensionHeader(EXT_DEST_OPTS, optionsHeader(8));
    }

    /** A 16-byte authentication header (payload length 2: (2 + 2) * 4). */
    public PacketBuilder authentication()
    {
        final byte[] ah = new byte[16];
        ah[1] = 2;
        putInt(ah, 4, 0x1000);
        putInt(ah, 8, 1);
        return extensionHeader(EXT_AH, ah);
    }

    /** A fragment header (offset in bytes, a multiple of 8). */
    public PacketBuilder fragmentHeader(final int offsetBytes, final boolean more, final int id)
    {
        final byte[] fh = new byte[8];
        putShort(fh, 2, offsetBytes | (more ? 1 : 0));
        putInt(fh, 4, id);
        return extensionHeader(EXT_FRAGMENT, fh);
    }

    /**
     * Adds an extension header of type {@code type} with the given raw bytes (its first byte, the next-header
     * field, is filled in at build time; the length byte is taken as given).
     */
    public PacketBuilder extensionHeader(final int type, final byte[] header)
    {
        extTypes.add(new int[] { type });
        extHeaders.add(header.clone());
        return this;
    }

    public PacketBuilder payloadLength(final int bytes)
    {
        payloadLength = bytes;
        return this;
    }

    public PacketBuilder nextHeader(final int value)
    {
        nextHeader = value;
        return this;
    }

    private static byte[] optionsHeader(final int bytes)
    {
        if (bytes < 8 || bytes % 8 != 0)
        {
            throw new IllegalArgumentException("options headers are multiples of 8 bytes, got " + bytes);
        }
        final byte[] h = new byte[bytes];
        h[1] = (byte)(bytes / 8 - 1);
        h[2] = 1;
        h[3] = (byte)(bytes - 4);
        return h;
    }

    // ---- TCP ---------------------------------------------------------------------------------------------

    public PacketBuilder tcp(final int sport, final int dport)
    {
        l4 = L4.TCP;
        proto = PROTO_TCP;
        srcPort = sport;
        dstPort = dport;
        return this;
    }

    public PacketBuilder flags(final int flags)
    {
        tcpFlags = flags;
        return this;
    }

    public PacketBuilder seq(final long value)
    {
        seq = value;
        return this;
    }

    public PacketBuilder ack(final long value)
    {
        ack = value;
        return this;
    }

    public PacketBuilder window(final int value)
    {
        window = value;
        return this;
    }

    /** Adds a window-scale option with this shift. */
    public PacketBuilder wscale(final int shift)
    {
        wscale = shift;
        return this;
    }

    /** Adds an MSS option. */
    public PacketBuilder mss(final int value)
    {
        mss = value;
        return this;
    }

    /** Raw TCP options (replace MSS/window scale), padded with zeros to a multiple of 4. */
    public PacketBuilder tcpOptions(final byte[] options)
    {
        tcpOptions = Arrays.copyOf(options, (options.length + 3) & ~3);
        return this;
    }

    /** Overrides the data offset field (32-bit words). */
    public PacketBuilder dataOffset(final int words)
    {
        dataOffset = words;
        return this;
    }

    // ---- UDP ---------------------------------------------------------------------------------------------

    public PacketBuilder udp(final int sport, final int dport)
    {
        l4 = L4.UDP;
        proto = PROTO_UDP;
        srcPort = sport;
        dstPort = dport;
        return this;
    }

    public PacketBuilder udpLength(final int bytes)
    {
        udpLength = bytes;
        return this;
    }

    /** Sets the UDP checksum field to {@code value} (0 = no checksum). */
    public PacketBuilder udpChecksum(final int value)
    {
        udpChecksum = value;
        return this;
    }

    // ---- ICMP / ICMPv6 -----------------------------------------------------------------------------------

    /** ICMP (IPv4) or ICMPv6 (IPv6) header with this type and code; the next 4 bytes come from {@link #icmpRest}. */
    public PacketBuilder icmp(final int type, final int code)
    {
        l4 = L4.ICMP;
        proto = v6 ? PROTO_ICMPV6 : PROTO_ICMP;
        icmpType = type;
        icmpCode = code;
        return this;
    }

    /** The 4 bytes after type, code and checksum (identifier and sequence, MTU, pointer, ...). */
    public PacketBuilder icmpRest(final int value)
    {
        icmpRest = value;
        return this;
    }

    /** An echo-style message: {@code type} (8/0/13/14/15/16, or 128/129), code 0, identifier and sequence. */
    public PacketBuilder echo(final int type, final int id, final int sequence)
    {
        return icmp(type, 0).icmpRest((id << 16) | (sequence & 0xFFFF));
    }

    /** An ICMP or ICMPv6 error quoting {@code quoted} (an IP datagram, possibly cut). */
    public PacketBuilder icmpError(final int type, final int code, final byte[] quoted)
    {
        return icmp(type, code).icmpRest(0).payload(quoted);
    }

    // ---- SCTP --------------------------------------------------------------------------------------------

    public PacketBuilder sctp(final int sport, final int dport)
    {
        l4 = L4.SCTP;
        proto = PROTO_SCTP;
        srcPort = sport;
        dstPort = dport;
        return this;
    }

    public PacketBuilder sctpTag(final int verificationTag)
    {
        sctpTag = verificationTag;
        return this;
    }

    /** Appends a chunk: type, flags, length 4 + value, zero padding to a multiple of 4. */
    public PacketBuilder sctpChunk(final int type, final int flags, final byte[] value)
    {
        return sctpChunk(type, flags, 4 + value.length, value);
    }

    /** Appends a chunk whose length field says {@code lengthField} (padding follows the real value). */
    public PacketBuilder sctpChunk(final int type, final int flags, final int lengthField, final byte[] value)
    {
        sctpChunks.write(type);
        sctpChunks.write(flags);
        put16(sctpChunks, lengthField);
        sctpChunks.writeBytes(value);
        final int pad = (4 - (value.length & 3)) & 3;
        sctpChunks.writeBytes(new byte[pad]);
        return this;
    }

    /** Appends raw bytes after the chunks (to break the chunk walk). */
    public PacketBuilder sctpTrailer(final byte[] bytes)
    {
        sctpChunks.writeBytes(bytes);
        return this;
    }

    /** Appends an INIT chunk (initiate tag, a_rwnd, 10 streams each way, initial TSN). */
    public PacketBuilder sctpInit()
    {
        final byte[] value = new byte[16];
        putInt(value, 0, 0x11111111);
        putInt(value, 4, 0xFFFF);
        putShort(value, 8, 10);
        putShort(value, 10, 10);
        putInt(value, 12, 100);
        return sctpChunk(1, 0, value);
    }

    // ---- other -------------------------------------------------------------------------------------------

    /** Any IP protocol without a transport header of its own: {@code bytes} follow the IP header(s). */
    public PacketBuilder rawL4(final int protocol, final byte[] bytes)
    {
        l4 = L4.RAW;
        proto = protocol;
        payload = bytes.clone();
        return this;
    }

    /** Transport payload (after the TCP/UDP/ICMP/SCTP header). */
    public PacketBuilder payload(final byte[] bytes)
    {
        payload = bytes.clone();
        return this;
    }

    /** {@code length} bytes of transport payload ('a' to 'z' repeated). */
    public PacketBuilder payload(final int length)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)('a' + i % 26);
        }
        payload = bytes;
        return this;
    }

    /** Sets the transport checksum field to {@code value} instead of computing it. */
    public PacketBuilder l4Checksum(final long value)
    {
        l4Checksum = value;
        return this;
    }

    /** Computes the transport checksum, then changes it so it no longer verifies. */
    public PacketBuilder badL4Checksum()
    {
        badL4Checksum = true;
        return this;
    }

    // ---- frame -------------------------------------------------------------------------------------------

    /** Cuts the finished frame to {@code frameLength} bytes. */
    public PacketBuilder truncateTo(final int frameLength)
    {
        truncateTo = frameLength;
        return this;
    }

    // ---- output ------------------------------------------------------------------------------------------

    /** The frame. */
    public byte[] build()
    {
        final byte[] l3 = datagram();
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(TestPackets.DST_MAC);
        out.writeBytes(TestPackets.SRC_MAC);
        for (final int[] tag : vlanTags)
        {
            put16(out, tag[0]);
            put16(out, tag[1] & 0x0FFF);
        }
        final int type = etherType >= 0 ? etherType : !mplsLabels.isEmpty() ? ETH_MPLS : v6 ? ETH_IPV6 : ETH_IPV4;
        if (llcSnap)
        {
            put16(out, 8 + l3.length);
            out.writeBytes(new byte[] { (byte)0xAA, (byte)0xAA, 0x03, 0, 0, 0 });
        }
        put16(out, type);
        for (int i = 0; i < mplsLabels.size(); i++)
        {
            final boolean bottom = i == mplsLabels.size() - 1;
            put32(out, (mplsLabels.get(i) << 12) | (bottom ? 0x100 : 0) | 64);
        }
        out.writeBytes(l3);
        out.writeBytes(new byte[padding]);
        final byte[] frame = out.toByteArray();
        return truncateTo >= 0 ? Arrays.copyOf(frame, truncateTo) : frame;
    }

    /** The frame in a buffer of exactly its size. */
    public UnsafeBuffer buffer()
    {
        return TestPackets.buffer(build());
    }

    /** The IP datagram alone (no L2, padding or truncation), e.g. to quote in an ICMP error. */
    public byte[] datagram()
    {
        return PacketEncoder.datagram(this);
    }

}
