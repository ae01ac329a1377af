package io.ctrack.engine.key;

import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over one connection-tracking request: what a bucket needs to track a packet, without the packet.
 * A packet thread fills it ({@link ConnKeyExtractor}); the owner of a connection table reads it. It is also the
 * per-packet record of the batch wire format, so its layout is fixed and little-endian:
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
 * 56 u16 tcpWindow
 * 58 u16 tcpFlags  low 12 bits of the TCP control field
 * 60 u16 tcpPayloadLength
 * 62 u8  tcpWscale window-scale option as Open vSwitch encodes it (0x80 | shift, or 0)
 * 63 u8  inState   ct_state the packet already carries (SNAT/DNAT bits mean "already translated")
 * </pre>
 */
public final class CtRequest
{
    public static final int LENGTH = 64;
    public static final int FLAG_IPV6 = 0x01;
    public static final int FLAG_ICMP_RELATED = 0x02;

    public static final int FLAGS_OFFSET = 0;
    public static final int PROTO_OFFSET = 1;
    public static final int ZONE_OFFSET = 2;
    public static final int HASH_OFFSET = 4;
    public static final int SRC_L4_OFFSET = 8;
    public static final int DST_L4_OFFSET = 12;
    public static final int SRC_HI_OFFSET = 16;
    public static final int SRC_LO_OFFSET = 24;
    public static final int DST_HI_OFFSET = 32;
    public static final int DST_LO_OFFSET = 40;
    public static final int TCP_SEQ_OFFSET = 48;
    public static final int TCP_ACK_OFFSET = 52;
    public static final int TCP_WINDOW_OFFSET = 56;
    public static final int TCP_FLAGS_OFFSET = 58;
    public static final int TCP_PAYLOAD_OFFSET = 60;
    public static final int TCP_WSCALE_OFFSET = 62;
    public static final int IN_STATE_OFFSET = 63;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private MutableDirectBuffer buffer;
    private int offset;

    public CtRequest wrap(final MutableDirectBuffer buffer, final int offset)
    {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    public MutableDirectBuffer buffer()
    {
        return buffer;
    }

    public int offset()
    {
        return offset;
    }

    public int flags()
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    public CtRequest flags(final int flags)
    {
        buffer.putByte(offset + FLAGS_OFFSET, (byte)flags);
        return this;
    }

    public boolean isIpv6()
    {
        return (flags() & FLAG_IPV6) != 0;
    }

    public boolean isIcmpRelated()
    {
        return (flags() & FLAG_ICMP_RELATED) != 0;
    }

    public int nwProto()
    {
        return buffer.getByte(offset + PROTO_OFFSET) & 0xFF;
    }

    public CtRequest nwProto(final int proto)
    {
        buffer.putByte(offset + PROTO_OFFSET, (byte)proto);
        return this;
    }

    public int zone()
    {
        return buffer.getShort(offset + ZONE_OFFSET, ORDER) & 0xFFFF;
    }

    public CtRequest zone(final int zone)
    {
        buffer.putShort(offset + ZONE_OFFSET, (short)zone, ORDER);
        return this;
    }

    public int hash()
    {
        return buffer.getInt(offset + HASH_OFFSET, ORDER);
    }

    public CtRequest hash(final int hash)
    {
        buffer.putInt(offset + HASH_OFFSET, hash, ORDER);
        return this;
    }

    public int srcL4()
    {
        return buffer.getInt(offset + SRC_L4_OFFSET, ORDER);
    }

    public CtRequest srcL4(final int value)
    {
        buffer.putInt(offset + SRC_L4_OFFSET, value, ORDER);
        return this;
    }

    public int dstL4()
    {
        return buffer.getInt(offset + DST_L4_OFFSET, ORDER);
    }

    public CtRequest dstL4(final int value)
    {
        buffer.putInt(offset + DST_L4_OFFSET, value, ORDER);
        return this;
    }

    public long srcHi()
    {
        return buffer.getLong(offset + SRC_HI_OFFSET, ORDER);
    }

    public long srcLo()
    {
        return buffer.getLong(offset + SRC_LO_OFFSET, ORDER);
    }

    public long dstHi()
    {
        return buffer.getLong(offset + DST_HI_OFFSET, ORDER);
    }

    public long dstLo()
    {
        return buffer.getLong(offset + DST_LO_OFFSET, ORDER);
    }

    public CtRequest src(final long hi, final long lo)
    {
        buffer.putLong(offset + SRC_HI_OFFSET, hi, ORDER);
        buffer.putLong(offset + SRC_LO_OFFSET, lo, ORDER);
        return this;
    }

    public CtRequest dst(final long hi, final long lo)
    {
        buffer.putLong(offset + DST_HI_OFFSET, hi, ORDER);
        buffer.putLong(offset + DST_LO_OFFSET, lo, ORDER);
        return this;
    }

    public int tcpSeq()
    {
        return buffer.getInt(offset + TCP_SEQ_OFFSET, ORDER);
    }

    public int tcpAck()
    {
        return buffer.getInt(offset + TCP_ACK_OFFSET, ORDER);
    }

    public int tcpWindow()
    {
        return buffer.getShort(offset + TCP_WINDOW_OFFSET, ORDER) & 0xFFFF;
    }

    public int tcpFlags()
    {
        return buffer.getShort(offset + TCP_FLAGS_OFFSET, ORDER) & 0xFFFF;
    }

    public int tcpPayloadLength()
    {
        return buffer.getShort(offset + TCP_PAYLOAD_OFFSET, ORDER) & 0xFFFF;
    }

    public int tcpWscale()
    {
        return buffer.getByte(offset + TCP_WSCALE_OFFSET) & 0xFF;
    }

    public CtRequest tcp(final int seq, final int ack, final int window, final int flags, final int payload, final int wscale)
    {
        buffer.putInt(offset + TCP_SEQ_OFFSET, seq, ORDER);
        buffer.putInt(offset + TCP_ACK_OFFSET, ack, ORDER);
        buffer.putShort(offset + TCP_WINDOW_OFFSET, (short)window, ORDER);
        buffer.putShort(offset + TCP_FLAGS_OFFSET, (short)flags, ORDER);
        buffer.putShort(offset + TCP_PAYLOAD_OFFSET, (short)payload, ORDER);
        buffer.putByte(offset + TCP_WSCALE_OFFSET, (byte)wscale);
        return this;
    }

    public int inState()
    {
        return buffer.getByte(offset + IN_STATE_OFFSET) & 0xFF;
    }

    public CtRequest inState(final int state)
    {
        buffer.putByte(offset + IN_STATE_OFFSET, (byte)state);
        return this;
    }

    /** Clears the record (all 64 bytes). */
    public CtRequest clear()
    {
        buffer.setMemory(offset, LENGTH, (byte)0);
        return this;
    }

    /** The ICMP type of an ICMP key's source endpoint. */
    public int icmpType()
    {
        return (srcL4() >>> 8) & 0xFF;
    }

    /** Copies this record into {@code dst} at {@code dstOffset}. */
    public void copyTo(final MutableDirectBuffer dst, final int dstOffset)
    {
        dst.putBytes(dstOffset, buffer, offset, LENGTH);
    }
}
