package io.ctrack.engine.ct;

import io.ctrack.engine.packet.RecordWords;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Flyweight over one verdict, the answer for one packet. It is also the per-packet record of the verdict wire
 * format, little-endian:
 *
 * <pre>
 *  0 u8  ctState   {@link CtState} bits
 *  1 u8  flags     bit0: held (a fragment kept for reassembly: no state yet); bit1: dropped (see reason);
 *                  bit2: the label words are written (else the label is 0 and bytes 16-31 are not written)
 *  2 u16 reason    for dropped packets, the counter id that explains the drop; else 0
 *  4 u32 mark
 *  8 i64 connId    id of the connection the packet belongs to, 0 if none
 * 16 i64 labelLo
 * 24 i64 labelHi
 * </pre>
 * Verdicts of batches executed with a NAT action have {@link #NAT_LENGTH} bytes: the rewrite follows (flags bit4),
 * with the key of Open vSwitch's {@code nat_packet} whose reverse the packet must become:
 * <pre>
 * 32 u8  natOp     bit0 rewrite the source address, bit1 the destination address, bit2 the packet is an ICMP
 *                  error related to the connection (rewrite the quoted packet too)
 * 33 u8  reserved
 * 34 u16 keySrcPort the key's source port (ICMP: id): the packet's new destination port (its new ICMP id)
 * 36 u16 keyDstPort the key's destination port: the packet's new source port
 * 38 u16 reserved
 * 40 i64 addrHi    the new address (IPv4 in the low 32 bits of addrLo)
 * 48 i64 addrLo
 * 56 u32 flowId    single-pass pipeline (flags bit5): the flow the post-ct table matched, 0 for a table miss
 * 60 u16 pipeline  bit0 the rest of the flow's actions are the worker's (resume), bit1 the flow's ct was executed
 * 62 u16 reserved
 * </pre>
 */
public final class Verdict
{
    public static final int LENGTH = 32;
    /** Length of a verdict with its NAT part. */
    public static final int NAT_LENGTH = 64;
    public static final int FLAG_HELD = 0x01;
    public static final int FLAG_DROPPED = 0x02;
    public static final int FLAG_LABEL = 0x04;
    /** Not an answer: the packet's verdict comes later, from another message (NAT reservations and forwarding). */
    public static final int FLAG_DEFERRED = 0x08;
    /** Bytes 32-55 hold a NAT rewrite. */
    public static final int FLAG_NAT = 0x10;
    /** Bytes 56-63 hold the single-pass pipeline's result. */
    public static final int FLAG_PIPELINE = 0x20;

    public static final int PIPELINE_RESUME = 0x01;
    public static final int PIPELINE_CT_DONE = 0x02;
    public static final int PIPELINE_FLOW_OFFSET = 56;
    public static final int PIPELINE_FLAGS_OFFSET = 60;

    public static final int NAT_REWRITE_SOURCE = 0x01;
    public static final int NAT_REWRITE_DESTINATION = 0x02;
    public static final int NAT_RELATED = 0x04;

    public static final int NAT_OP_OFFSET = 32;
    public static final int NAT_KEY_SRC_PORT_OFFSET = 34;
    public static final int NAT_KEY_DST_PORT_OFFSET = 36;
    public static final int NAT_ADDR_HI_OFFSET = 40;
    public static final int NAT_ADDR_LO_OFFSET = 48;

    public static final int STATE_OFFSET = 0;
    public static final int FLAGS_OFFSET = 1;
    public static final int REASON_OFFSET = 2;
    public static final int MARK_OFFSET = 4;
    public static final int CONN_ID_OFFSET = 8;
    public static final int LABEL_LO_OFFSET = 16;
    public static final int LABEL_HI_OFFSET = 24;

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private MutableDirectBuffer buffer;
    private int offset;

    public Verdict wrap(final MutableDirectBuffer buffer, final int offset)
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

    public int ctState()
    {
        return buffer.getByte(offset + STATE_OFFSET) & 0xFF;
    }

    public int flags()
    {
        return buffer.getByte(offset + FLAGS_OFFSET) & 0xFF;
    }

    public int reason()
    {
        return buffer.getShort(offset + REASON_OFFSET, ORDER) & 0xFFFF;
    }

    public int mark()
    {
        return buffer.getInt(offset + MARK_OFFSET, ORDER);
    }

    public long connId()
    {
        return buffer.getLong(offset + CONN_ID_OFFSET, ORDER);
    }

    public long labelLo()
    {
        return (flags() & FLAG_LABEL) == 0 ? 0 : buffer.getLong(offset + LABEL_LO_OFFSET, ORDER);
    }

    public long labelHi()
    {
        return (flags() & FLAG_LABEL) == 0 ? 0 : buffer.getLong(offset + LABEL_HI_OFFSET, ORDER);
    }

    /** Writes a whole verdict. */
    public Verdict set(final int ctState, final int mark, final long connId, final long labelLo, final long labelHi)
    {
        final boolean labelled = (labelLo | labelHi) != 0;
        RecordWords.check(buffer, offset, labelled ? LENGTH : 16);
        if (!labelled)
        {
            RecordWords.put(buffer, offset, (ctState & 0xFFL) | (long)mark << 32);
        }
        else
        {
            RecordWords.put(buffer, offset, (ctState & 0xFFL) | (long)FLAG_LABEL << 8 | (long)mark << 32);
            RecordWords.put(buffer, offset + LABEL_LO_OFFSET, labelLo);
            RecordWords.put(buffer, offset + LABEL_HI_OFFSET, labelHi);
        }
        RecordWords.put(buffer, offset + CONN_ID_OFFSET, connId);
        return this;
    }

    /** Records the counter id that explains this verdict (invalid or dropped packets). */
    public Verdict reason(final int reasonCounterId)
    {
        buffer.putShort(offset + REASON_OFFSET, (short)reasonCounterId, ORDER);
        return this;
    }

    /** An invalid packet: {@code inv|trk}, no connection, the reason recorded. */
    public Verdict invalid(final int reasonCounterId)
    {
        return answer(CtState.INVALID | CtState.TRACKED, 0, reasonCounterId);
    }

    /** A fragment held for reassembly: no ct_state (Open vSwitch prints {@code 0}). */
    public Verdict held()
    {
        return answer(0, FLAG_HELD, 0);
    }

    /** A packet that was not tracked at all (back-pressure, failure): flagged dropped with the counter id. */
    public Verdict dropped(final int reasonCounterId)
    {
        return answer(0, FLAG_DROPPED, reasonCounterId);
    }

    /** A verdict without mark, label or connection: state, flags and reason in the first word, connection id 0. */
    private Verdict answer(final int ctState, final int flags, final int reasonCounterId)
    {
        RecordWords.check(buffer, offset, 16);
        RecordWords.put(buffer, offset, (ctState & 0xFFL) | (flags & 0xFFL) << 8 | (reasonCounterId & 0xFFFFL) << 16);
        RecordWords.put(buffer, offset + CONN_ID_OFFSET, 0);
        return this;
    }

    /** Copies this verdict over {@code other} (without its NAT part). */
    public void copyTo(final Verdict other)
    {
        // Word by word: a copy of a variable length is a call to a copy routine, several times the cost of the
        // two to four moves (this runs once per packet on the packet thread).
        final MutableDirectBuffer to = other.buffer;
        final int at = other.offset;
        RecordWords.check(buffer, offset, 16);
        final long head = RecordWords.get(buffer, offset);
        final int flags = (int)(head >>> 8) & 0xFF;
        final int length = (flags & FLAG_LABEL) != 0 ? LENGTH : 16;
        RecordWords.check(buffer, offset, length);
        RecordWords.check(to, at, length);
        RecordWords.put(to, at, (flags & (FLAG_NAT | FLAG_PIPELINE)) != 0
            ? head & ~((long)(FLAG_NAT | FLAG_PIPELINE) << 8) : head);
        RecordWords.put(to, at + CONN_ID_OFFSET, RecordWords.get(buffer, offset + CONN_ID_OFFSET));
        if ((flags & FLAG_LABEL) != 0)
        {
            RecordWords.put(to, at + LABEL_LO_OFFSET, RecordWords.get(buffer, offset + LABEL_LO_OFFSET));
            RecordWords.put(to, at + LABEL_HI_OFFSET, RecordWords.get(buffer, offset + LABEL_HI_OFFSET));
        }
    }

    /** Copies this verdict with its NAT part (if any) over {@code other}, which must have room for it. */
    public void copyWithNatTo(final Verdict other)
    {
        RecordWords.copy(buffer, offset, other.buffer, other.offset,
            (flags() & (FLAG_NAT | FLAG_PIPELINE)) != 0 ? NAT_LENGTH : LENGTH);
    }

    /** Marks this slot as answered later (see {@link #FLAG_DEFERRED}). */
    public Verdict deferred()
    {
        return answer(0, FLAG_DEFERRED, 0);
    }

    public boolean isDeferred()
    {
        return (flags() & FLAG_DEFERRED) != 0;
    }

    /** Adds ct_state bits. */
    public Verdict orState(final int bits)
    {
        buffer.putByte(offset + STATE_OFFSET, (byte)(ctState() | bits));
        return this;
    }

    /** Writes the NAT part (see the class comment) and sets {@link #FLAG_NAT}. */
    public Verdict nat(final int op, final int keySrcPort, final int keyDstPort, final long addrHi, final long addrLo)
    {
        buffer.putByte(offset + FLAGS_OFFSET, (byte)(flags() | FLAG_NAT));
        buffer.putLong(offset + NAT_OP_OFFSET, (op & 0xFFL) | (keySrcPort & 0xFFFFL) << 16 | (keyDstPort & 0xFFFFL) << 32,
            ORDER);
        buffer.putLong(offset + NAT_ADDR_HI_OFFSET, addrHi, ORDER);
        buffer.putLong(offset + NAT_ADDR_LO_OFFSET, addrLo, ORDER);
        return this;
    }

    /** Writes the single-pass pipeline's result (see the class comment) and sets {@link #FLAG_PIPELINE}. */
    public Verdict pipeline(final int flowId, final int pipelineFlags)
    {
        buffer.putByte(offset + FLAGS_OFFSET, (byte)(flags() | FLAG_PIPELINE));
        buffer.putLong(offset + PIPELINE_FLOW_OFFSET, (flowId & 0xFFFF_FFFFL) | (long)(pipelineFlags & 0xFFFF) << 32, ORDER);
        return this;
    }

    public boolean hasPipeline()
    {
        return (flags() & FLAG_PIPELINE) != 0;
    }

    public int pipelineFlowId()
    {
        return buffer.getInt(offset + PIPELINE_FLOW_OFFSET, ORDER);
    }

    public int pipelineFlags()
    {
        return buffer.getShort(offset + PIPELINE_FLAGS_OFFSET, ORDER) & 0xFFFF;
    }

    /** Sets the ct_state byte. */
    public Verdict state(final int ctState)
    {
        buffer.putByte(offset + STATE_OFFSET, (byte)ctState);
        return this;
    }

    public boolean hasNat()
    {
        return (flags() & FLAG_NAT) != 0;
    }

    public int natOp()
    {
        return buffer.getByte(offset + NAT_OP_OFFSET) & 0xFF;
    }

    public int natKeySrcPort()
    {
        return buffer.getShort(offset + NAT_KEY_SRC_PORT_OFFSET, ORDER) & 0xFFFF;
    }

    public int natKeyDstPort()
    {
        return buffer.getShort(offset + NAT_KEY_DST_PORT_OFFSET, ORDER) & 0xFFFF;
    }

    public long natAddrHi()
    {
        return buffer.getLong(offset + NAT_ADDR_HI_OFFSET, ORDER);
    }

    public long natAddrLo()
    {
        return buffer.getLong(offset + NAT_ADDR_LO_OFFSET, ORDER);
    }
}
