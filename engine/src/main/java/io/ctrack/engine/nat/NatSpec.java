package io.ctrack.engine.nat;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * The {@code nat(...)} part of a {@code ct} action, with Open vSwitch's meaning: source or destination
 * translation into an address range and optionally a port range, with the flags {@code random}, {@code hash}
 * (the default) and {@code persistent}. {@link #PLAIN} is {@code nat} alone: on a connection that already has a
 * translation it applies that translation, on a new connection it translates nothing. Immutable.
 * <p>
 * Action bits are Open vSwitch's ({@code NAT_ACTION_SRC} 1, {@code _SRC_PORT} 2, {@code _DST} 4,
 * {@code _DST_PORT} 8): a port range given on the command sets the port bit. Addresses are kept as two longs (IPv4
 * in the low 32 bits of {@code lo}, {@code hi} 0); an address range of all zeros means "no address given" (the
 * packet's own address is kept and only ports are translated).
 */
public final class NatSpec
{
    public static final int ACTION_SRC = 1;
    public static final int ACTION_SRC_PORT = 2;
    public static final int ACTION_DST = 4;
    public static final int ACTION_DST_PORT = 8;

    public static final int FLAG_RANDOM = 1;
    public static final int FLAG_PERSISTENT = 2;
    public static final int FLAG_HASH = 4;

    /** Bytes of the wire encoding ({@link #writeTo}). */
    public static final int ENCODED_LENGTH = 48;

    /** {@code nat} without a range. */
    public static final NatSpec PLAIN = new NatSpec(0, 0, false, 0, 0, 0, 0, 0, 0);

    private static final ByteOrder ORDER = ByteOrder.LITTLE_ENDIAN;

    private final int action;
    private final int flags;
    private final boolean ipv6;
    private final long minHi;
    private final long minLo;
    private final long maxHi;
    private final long maxLo;
    private final int minPort;
    private final int maxPort;

    private NatSpec(final int action, final int flags, final boolean ipv6, final long minHi, final long minLo,
        final long maxHi, final long maxLo, final int minPort, final int maxPort)
    {
        this.action = action;
        this.flags = flags;
        this.ipv6 = ipv6;
        this.minHi = minHi;
        this.minLo = minLo;
        this.maxHi = maxHi;
        this.maxLo = maxLo;
        this.minPort = minPort;
        this.maxPort = maxPort;
    }

    /**
     * A source ({@code src = true}) or destination translation. Addresses: IPv4 in the low 32 bits of the
     * {@code lo} words (the {@code hi} words 0), IPv6 as two big-endian halves; all zero for "no address". Ports
     * 0 and 0 for "no port range".
     *
     * @throws IllegalArgumentException if a range is reversed or empty, or a port is out of range.
     */
    public static NatSpec of(final boolean src, final boolean ipv6, final long minHi, final long minLo,
        final long maxHi, final long maxLo, final int minPort, final int maxPort, final int flags)
    {
        if (Long.compareUnsigned(minHi, maxHi) > 0 || (minHi == maxHi && Long.compareUnsigned(minLo, maxLo) > 0))
        {
            throw new IllegalArgumentException("NAT address range is reversed");
        }
        if (!ipv6 && (minHi != 0 || maxHi != 0 || (minLo >>> 32) != 0 || (maxLo >>> 32) != 0))
        {
            throw new IllegalArgumentException("IPv4 NAT address out of range");
        }
        final boolean portsGiven = minPort != 0 || maxPort != 0;
        if (portsGiven && (minPort < 1 || maxPort > 0xFFFF || minPort > maxPort))
        {
            throw new IllegalArgumentException("NAT port range must be 1-65535 and not reversed, got " + minPort + "-" + maxPort);
        }
        if ((flags & ~(FLAG_RANDOM | FLAG_PERSISTENT | FLAG_HASH)) != 0
            || (flags & (FLAG_RANDOM | FLAG_HASH)) == (FLAG_RANDOM | FLAG_HASH))
        {
            throw new IllegalArgumentException("NAT flags: 'random' and 'hash' are exclusive");
        }
        int action = src ? ACTION_SRC : ACTION_DST;
        if (portsGiven)
        {
            action |= src ? ACTION_SRC_PORT : ACTION_DST_PORT;
        }
        return new NatSpec(action, flags, ipv6, minHi, minLo, maxHi, maxLo, minPort, maxPort);
    }

    /** Open vSwitch's action bits; 0 for {@link #PLAIN}. */
    public int action()
    {
        return action;
    }

    public boolean isSource()
    {
        return (action & ACTION_SRC) != 0;
    }

    public boolean isDestination()
    {
        return (action & ACTION_DST) != 0;
    }

    public boolean isPlain()
    {
        return action == 0;
    }

    public int flags()
    {
        return flags;
    }

    public boolean random()
    {
        return (flags & FLAG_RANDOM) != 0;
    }

    public boolean persistent()
    {
        return (flags & FLAG_PERSISTENT) != 0;
    }

    public boolean isIpv6()
    {
        return ipv6;
    }

    /** True if an address range was given (else only ports are translated). */
    public boolean hasAddress()
    {
        return (minHi | minLo | maxHi | maxLo) != 0;
    }

    public long minHi()
    {
        return minHi;
    }

    public long minLo()
    {
        return minLo;
    }

    public long maxHi()
    {
        return maxHi;
    }

    public long maxLo()
    {
        return maxLo;
    }

    public int minPort()
    {
        return minPort;
    }

    public int maxPort()
    {
        return maxPort;
    }

    public boolean hasPorts()
    {
        return (action & (ACTION_SRC_PORT | ACTION_DST_PORT)) != 0;
    }

    /** Writes the {@link #ENCODED_LENGTH}-byte wire encoding (see docs/WIRE.md). */
    public void writeTo(final MutableDirectBuffer buffer, final int offset)
    {
        buffer.putShort(offset, (short)action, ORDER);
        buffer.putByte(offset + 2, (byte)flags);
        buffer.putByte(offset + 3, (byte)(ipv6 ? 1 : 0));
        buffer.putShort(offset + 4, (short)minPort, ORDER);
        buffer.putShort(offset + 6, (short)maxPort, ORDER);
        buffer.putLong(offset + 8, 0, ORDER);
        buffer.putLong(offset + 16, minHi, ORDER);
        buffer.putLong(offset + 24, minLo, ORDER);
        buffer.putLong(offset + 32, maxHi, ORDER);
        buffer.putLong(offset + 40, maxLo, ORDER);
    }

    /** True if the encoding at {@code offset} is this spec's (lets a reader reuse a decoded spec). */
    public boolean encodedEquals(final DirectBuffer buffer, final int offset)
    {
        return (buffer.getShort(offset, ORDER) & 0xFFFF) == action
            && (buffer.getByte(offset + 2) & 0xFF) == flags
            && (buffer.getByte(offset + 3) != 0) == ipv6
            && (buffer.getShort(offset + 4, ORDER) & 0xFFFF) == minPort
            && (buffer.getShort(offset + 6, ORDER) & 0xFFFF) == maxPort
            && buffer.getLong(offset + 16, ORDER) == minHi
            && buffer.getLong(offset + 24, ORDER) == minLo
            && buffer.getLong(offset + 32, ORDER) == maxHi
            && buffer.getLong(offset + 40, ORDER) == maxLo;
    }

    /** Decodes a spec written by {@link #writeTo}; rejects encodings {@link #of} would not accept. */
    public static NatSpec readFrom(final DirectBuffer buffer, final int offset)
    {
        final int action = buffer.getShort(offset, ORDER) & 0xFFFF;
        if (action == 0)
        {
            return PLAIN;
        }
        final boolean src = (action & ACTION_SRC) != 0;
        if (src == ((action & ACTION_DST) != 0) || (action & ~0xF) != 0)
        {
            throw new IllegalArgumentException("NAT action bits " + action + " name neither or both of src and dst");
        }
        final NatSpec spec = of(src, buffer.getByte(offset + 3) != 0, buffer.getLong(offset + 16, ORDER),
            buffer.getLong(offset + 24, ORDER), buffer.getLong(offset + 32, ORDER), buffer.getLong(offset + 40, ORDER),
            buffer.getShort(offset + 4, ORDER) & 0xFFFF, buffer.getShort(offset + 6, ORDER) & 0xFFFF,
            buffer.getByte(offset + 2) & 0xFF);
        if (spec.action != action)
        {
            throw new IllegalArgumentException("NAT port bit " + action + " disagrees with the port range");
        }
        return spec;
    }

    /** Open vSwitch's text form, e.g. {@code nat(src=10.0.0.1-10.0.0.9:1024-2048,random)}. */
    @Override
    public String toString()
    {
        if (isPlain())
        {
            return "nat";
        }
        final StringBuilder s = new StringBuilder("nat(").append(isSource() ? "src=" : "dst=");
        if (hasAddress())
        {
            appendAddress(s, minHi, minLo);
            if (minHi != maxHi || minLo != maxLo)
            {
                s.append('-');
                appendAddress(s, maxHi, maxLo);
            }
        }
        if (hasPorts())
        {
            s.append(':').append(minPort);
            if (maxPort != minPort)
            {
                s.append('-').append(maxPort);
            }
        }
        if (random())
        {
            s.append(",random");
        }
        if ((flags & FLAG_HASH) != 0)
        {
            s.append(",hash");
        }
        if (persistent())
        {
            s.append(",persistent");
        }
        return s.append(')').toString();
    }

    private void appendAddress(final StringBuilder s, final long hi, final long lo)
    {
        if (ipv6)
        {
            s.append('[');
            io.ctrack.engine.ct.DumpFormat.appendAddress(s, true, hi, lo);
            s.append(']');
        }
        else
        {
            io.ctrack.engine.ct.DumpFormat.appendAddress(s, false, hi, lo);
        }
    }

    @Override
    public boolean equals(final Object o)
    {
        if (!(o instanceof NatSpec))
        {
            return false;
        }
        final NatSpec other = (NatSpec)o;
        return action == other.action && flags == other.flags && ipv6 == other.ipv6 && minHi == other.minHi
            && minLo == other.minLo && maxHi == other.maxHi && maxLo == other.maxLo && minPort == other.minPort
            && maxPort == other.maxPort;
    }

    @Override
    public int hashCode()
    {
        return java.util.Objects.hash(action, flags, ipv6, minHi, minLo, maxHi, maxLo, minPort, maxPort);
    }
}
