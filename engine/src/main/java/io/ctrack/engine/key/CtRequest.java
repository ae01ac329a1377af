package io.ctrack.engine.key;

import io.ctrack.engine.packet.RecordWords;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import static io.ctrack.engine.packet.Protocols.IPPROTO_SCTP;
import static io.ctrack.engine.packet.Protocols.IPPROTO_UDP;


/**
 * One connection-tracking request: what a table needs to track a packet, without the packet. A packet thread
 * fills it ({@link ConnKeyExtractor}); the owner of a connection table reads it. In process it is a plain
 * mutable object (field reads, no bounds checks on the hot path); between threads it travels as a fixed
 * 64-byte little-endian record of the batch wire format ({@link #writeTo}, {@link #readFrom}):
 *
 * <pre>
 *  0 u8  flags     bit0 IPv6, bit1 ICMP-related (key is the reversed quoted tuple)
 *  1 u8  nwProto   IP protocol of the key
 *  2 u16 zone
 *  4 i32 hash      symmetric hash of the key ({@link SymmetricHash})
 *  8 i32 srcL4     source endpoint: port &lt;&lt; 16, or ICMP id &lt;&lt; 16 | type &lt;&lt; 8 | code
 * 12 i32 dstL4     destination endpoint, same encoding
 * 16 i64 srcHi     source address: IPv4 in the low 32 bits of srcLo (srcHi 0); IPv6 as two big-endian halves
 * 24 i64 srcLo
 * 32 i64 dstHi
 * 40 i64 dstLo
 * 48 i32 tcpSeq
 * 52 i32 tcpAck
 * 56 u16 tcpWindow (for packets other than TCP: the first byte of the L4 header, {@link #l4Type()})
 * 58 u16 tcpFlags  low 12 bits of the TCP control field
 * 60 u16 tcpPayloadLength
 * 62 u8  tcpWscale window-scale option as Open vSwitch encodes it (0x80 | shift, or 0)
 * 63 u8  inState   ct_state the packet already carries (SNAT/DNAT bits mean "already translated")
 * </pre>
 * An IPv4 request also has a {@link #COMPACT_LENGTH 40-byte} form ({@link #writeCompactTo}, {@link #readCompactFrom}),
 * for batches whose requests are all IPv4: bytes 0-15 as above, then
 * <pre>
 * 16 u32 srcAddr   IPv4 source (srcLo)
 * 20 u32 dstAddr   IPv4 destination (dstLo)
 * 24 ..            bytes 48-63 above (TCP fields, inState)
 * </pre>
 * A request that needs none of those last 16 bytes ({@link #isShortForm()}: IPv4, not ICMP-related, no ct_state
 * carried in, UDP or SCTP, whose trackers read no TCP field and whose {@link #l4Type()} is the high byte of the
 * source port) also has a {@link #SHORT_LENGTH 24-byte} form: the compact form's first 24 bytes
 * ({@link #writeShortTo}, {@link #readShortFrom}).
 */
public final class CtRequest
{
    public static final int LENGTH = 64;
    /** Length of the IPv4-only form. */
    public static final int COMPACT_LENGTH = 40;
    /** Length of the form of requests that need no TCP field and carry no ct_state ({@link #isShortForm()}). */
    public static final int SHORT_LENGTH = 24;
    public static final int FLAG_IPV6 = 0x01;
    public static final int FLAG_ICMP_RELATED = 0x02;

    private int flags;
    private int nwProto;
    private int zone;
    private int hash;
    private int srcL4;
    private int dstL4;
    private long srcHi;
    private long srcLo;
    private long dstHi;
    private long dstLo;
    private int tcpSeq;
    private int tcpAck;
    private int tcpWindow;
    private int tcpFlags;
    private int tcpPayloadLength;
    private int tcpWscale;
    private int inState;

    public int flags()
    {
        return flags;
    }

    public CtRequest flags(final int flags)
    {
        this.flags = flags & 0xFF;
        return this;
    }

    public boolean isIpv6()
    {
        return (flags & FLAG_IPV6) != 0;
    }

    public boolean isIcmpRelated()
    {
        return (flags & FLAG_ICMP_RELATED) != 0;
    }

    public int nwProto()
    {
        return nwProto;
    }

    public CtRequest nwProto(final int proto)
    {
        this.nwProto = proto & 0xFF;
        return this;
    }

    public int zone()
    {
        return zone;
    }

    public CtRequest zone(final int zone)
    {
        this.zone = zone & 0xFFFF;
        return this;
    }

    public int hash()
    {
        return hash;
    }

    public CtRequest hash(final int hash)
    {
        this.hash = hash;
        return this;
    }

    public int srcL4()
    {
        return srcL4;
    }

    public CtRequest srcL4(final int value)
    {
        this.srcL4 = value;
        return this;
    }

    public int dstL4()
    {
        return dstL4;
    }

    public CtRequest dstL4(final int value)
    {
        this.dstL4 = value;
        return this;
    }

    public long srcHi()
    {
        return srcHi;
    }

    public long srcLo()
    {
        return srcLo;
    }

    public long dstHi()
    {
        return dstHi;
    }

    public long dstLo()
    {
        return dstLo;
    }

    public CtRequest src(final long hi, final long lo)
    {
        this.srcHi = hi;
        this.srcLo = lo;
        return this;
    }

    public CtRequest dst(final long hi, final long lo)
    {
        this.dstHi = hi;
        this.dstLo = lo;
        return this;
    }

    public int tcpSeq()
    {
        return tcpSeq;
    }

    public int tcpAck()
    {
        return tcpAck;
    }

    public int tcpWindow()
    {
        return tcpWindow;
    }

    /**
     * For packets other than TCP: the first byte of the L4 header (the ICMP type), 0 if there is none. The ICMP
     * trackers read it; it shares its storage with {@link #tcpWindow()}.
     */
    public int l4Type()
    {
        return tcpWindow & 0xFF;
    }

    public CtRequest l4Type(final int type)
    {
        this.tcpWindow = type & 0xFF;
        return this;
    }

    public int tcpFlags()
    {
        return tcpFlags;
    }

    public int tcpPayloadLength()
    {
        return tcpPayloadLength;
    }

    public int tcpWscale()
    {
        return tcpWscale;
    }

    public CtRequest tcp(final int seq, final int ack, final int window, final int flags, final int payload, final int wscale)
    {
        this.tcpSeq = seq;
        this.tcpAck = ack;
        this.tcpWindow = window & 0xFFFF;
        this.tcpFlags = flags & 0xFFFF;
        this.tcpPayloadLength = payload & 0xFFFF;
        this.tcpWscale = wscale & 0xFF;
        return this;
    }

    public int inState()
    {
        return inState;
    }

    public CtRequest inState(final int state)
    {
        this.inState = state & 0xFF;
        return this;
    }

    /** Resets every field to 0. */
    public CtRequest clear()
    {
        flags = 0;
        nwProto = 0;
        zone = 0;
        hash = 0;
        srcL4 = 0;
        dstL4 = 0;
        srcHi = 0;
        srcLo = 0;
        dstHi = 0;
        dstLo = 0;
        tcpSeq = 0;
        tcpAck = 0;
        tcpWindow = 0;
        tcpFlags = 0;
        tcpPayloadLength = 0;
        tcpWscale = 0;
        inState = 0;
        return this;
    }

    /** The ICMP type of an ICMP key's source endpoint. */
    public int icmpType()
    {
        return (srcL4 >>> 8) & 0xFF;
    }

    /** Writes the 64-byte wire record at {@code offset}. */
    public void writeTo(final MutableDirectBuffer buffer, final int offset)
    {
        RecordWords.check(buffer, offset, LENGTH);
        RecordWords.put(buffer, offset, (flags & 0xFFL) | (nwProto & 0xFFL) << 8 | (zone & 0xFFFFL) << 16 | (long)hash << 32);
        RecordWords.put(buffer, offset + 8, (srcL4 & 0xFFFF_FFFFL) | (long)dstL4 << 32);
        RecordWords.put(buffer, offset + 16, srcHi);
        RecordWords.put(buffer, offset + 24, srcLo);
        RecordWords.put(buffer, offset + 32, dstHi);
        RecordWords.put(buffer, offset + 40, dstLo);
        RecordWords.put(buffer, offset + 48, (tcpSeq & 0xFFFF_FFFFL) | (long)tcpAck << 32);
        RecordWords.put(buffer, offset + 56, (tcpWindow & 0xFFFFL) | (tcpFlags & 0xFFFFL) << 16
            | (tcpPayloadLength & 0xFFFFL) << 32 | (tcpWscale & 0xFFL) << 48 | (inState & 0xFFL) << 56);
    }

    /** Reads a 64-byte wire record from {@code offset}. */
    /** Writes this request, which must be IPv4, in the 40-byte form. */
    public void writeCompactTo(final MutableDirectBuffer buffer, final int offset)
    {
        if (isIpv6())
        {
            throw new IllegalStateException("an IPv6 request has no compact form");
        }
        writeCompactHeadTo(buffer, offset);
        writeCompactTailTo(buffer, offset + SHORT_LENGTH);
    }

    /**
     * Writes the first 24 bytes of this IPv4 request's compact form (its short form, whether or not it has one) at
     * {@code offset}: for a packet thread that keeps them apart from the last 16 ({@link #writeCompactTailTo}).
     */
    public void writeCompactHeadTo(final MutableDirectBuffer buffer, final int offset)
    {
        RecordWords.check(buffer, offset, SHORT_LENGTH);
        RecordWords.put(buffer, offset, (flags & 0xFFL) | (nwProto & 0xFFL) << 8 | (zone & 0xFFFFL) << 16 | (long)hash << 32);
        RecordWords.put(buffer, offset + 8, (srcL4 & 0xFFFF_FFFFL) | (long)dstL4 << 32);
        RecordWords.put(buffer, offset + 16, (srcLo & 0xFFFF_FFFFL) | dstLo << 32);
    }

    /** Writes the last 16 bytes of this request's compact form (TCP fields, ct_state carried in) at {@code offset}. */
    public void writeCompactTailTo(final MutableDirectBuffer buffer, final int offset)
    {
        RecordWords.check(buffer, offset, COMPACT_LENGTH - SHORT_LENGTH);
        RecordWords.put(buffer, offset, (tcpSeq & 0xFFFF_FFFFL) | (long)tcpAck << 32);
        RecordWords.put(buffer, offset + 8, (tcpWindow & 0xFFFFL) | (tcpFlags & 0xFFFFL) << 16
            | (tcpPayloadLength & 0xFFFFL) << 32 | (tcpWscale & 0xFFL) << 48 | (inState & 0xFFL) << 56);
    }

    /**
     * Whether this request can travel in its {@link #SHORT_LENGTH 24-byte} form and be read back whole for its
     * table: IPv4, not ICMP-related, no ct_state carried in, UDP or SCTP.
     */
    public boolean isShortForm()
    {
        return flags == 0 && inState == 0 && (nwProto == IPPROTO_UDP || nwProto == IPPROTO_SCTP);
    }

    /** Writes this request, which must be {@link #isShortForm() of the short form}, in its 24 bytes. */
    public void writeShortTo(final MutableDirectBuffer buffer, final int offset)
    {
        if (!isShortForm())
        {
            throw new IllegalStateException("this request has no short form: flags " + flags + ", ct_state " + inState
                + ", protocol " + nwProto);
        }
        writeCompactHeadTo(buffer, offset);
    }

    /**
     * Reads a request in the 24-byte form: the TCP fields 0, no ct_state, and the first byte of the L4 header (for
     * UDP and SCTP, the high byte of the source port) as {@link #l4Type()}.
     */
    public CtRequest readShortFrom(final DirectBuffer buffer, final int offset)
    {
        RecordWords.check(buffer, offset, SHORT_LENGTH);
        readIpv4Head(buffer, offset);
        tcpSeq = 0;
        tcpAck = 0;
        tcpWindow = srcL4 >>> 24;
        tcpFlags = 0;
        tcpPayloadLength = 0;
        tcpWscale = 0;
        inState = 0;
        return this;
    }

    /** Reads an IPv4 request in the 40-byte form. */
    public CtRequest readCompactFrom(final DirectBuffer buffer, final int offset)
    {
        RecordWords.check(buffer, offset, COMPACT_LENGTH);
        readIpv4Head(buffer, offset);
        readTail(buffer, offset + 24);
        return this;
    }

    /** Bytes 0-23 of the compact and short forms: bytes 0-15 of all forms, then the two IPv4 addresses. */
    private void readIpv4Head(final DirectBuffer buffer, final int offset)
    {
        readHead(buffer, offset);
        final long addresses = RecordWords.get(buffer, offset + 16);
        srcHi = 0;
        srcLo = addresses & 0xFFFF_FFFFL;
        dstHi = 0;
        dstLo = addresses >>> 32;
    }

    public CtRequest readFrom(final DirectBuffer buffer, final int offset)
    {
        RecordWords.check(buffer, offset, LENGTH);
        readHead(buffer, offset);
        srcHi = RecordWords.get(buffer, offset + 16);
        srcLo = RecordWords.get(buffer, offset + 24);
        dstHi = RecordWords.get(buffer, offset + 32);
        dstLo = RecordWords.get(buffer, offset + 40);
        readTail(buffer, offset + 48);
        return this;
    }

    /** Bytes 0-15 of both forms. */
    private void readHead(final DirectBuffer buffer, final int offset)
    {
        final long w0 = RecordWords.get(buffer, offset);
        flags = (int)w0 & 0xFF;
        nwProto = (int)(w0 >>> 8) & 0xFF;
        zone = (int)(w0 >>> 16) & 0xFFFF;
        hash = (int)(w0 >>> 32);
        final long w1 = RecordWords.get(buffer, offset + 8);
        srcL4 = (int)w1;
        dstL4 = (int)(w1 >>> 32);
    }

    /** The TCP fields and inState: the last 16 bytes of both forms. */
    private void readTail(final DirectBuffer buffer, final int offset)
    {
        final long w6 = RecordWords.get(buffer, offset);
        tcpSeq = (int)w6;
        tcpAck = (int)(w6 >>> 32);
        final long w7 = RecordWords.get(buffer, offset + 8);
        tcpWindow = (int)w7 & 0xFFFF;
        tcpFlags = (int)(w7 >>> 16) & 0xFFFF;
        tcpPayloadLength = (int)(w7 >>> 32) & 0xFFFF;
        tcpWscale = (int)(w7 >>> 48) & 0xFF;
        inState = (int)(w7 >>> 56) & 0xFF;
    }

    /** Copies every field of {@code other}. */
    /** Reverses the key in place (source and destination endpoints swap); the symmetric hash is unchanged. */
    public CtRequest swapEndpoints()
    {
        final long hi = srcHi;
        final long lo = srcLo;
        final int l4 = srcL4;
        srcHi = dstHi;
        srcLo = dstLo;
        srcL4 = dstL4;
        dstHi = hi;
        dstLo = lo;
        dstL4 = l4;
        return this;
    }

    public CtRequest copyFrom(final CtRequest other)
    {
        flags = other.flags;
        nwProto = other.nwProto;
        zone = other.zone;
        hash = other.hash;
        srcL4 = other.srcL4;
        dstL4 = other.dstL4;
        srcHi = other.srcHi;
        srcLo = other.srcLo;
        dstHi = other.dstHi;
        dstLo = other.dstLo;
        tcpSeq = other.tcpSeq;
        tcpAck = other.tcpAck;
        tcpWindow = other.tcpWindow;
        tcpFlags = other.tcpFlags;
        tcpPayloadLength = other.tcpPayloadLength;
        tcpWscale = other.tcpWscale;
        inState = other.inState;
        return this;
    }
}
