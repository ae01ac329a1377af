package io.ctrack.engine.flow;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * The values of flow text ({@link FlowParser}): numbers (decimal or 0x hex) in a range, value/mask pairs, IPv4 and
 * IPv6 addresses with prefix lengths or masks, 128-bit labels. Each names the line and column of a bad value in
 * its {@link FlowSyntaxException}.
 */
final class FlowValues
{
    private FlowValues()
    {
    }

    static int number(final String value, final long min, final long max, final int line, final int column,
        final String what)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, what + " needs a value");
        }
        final long v;
        try
        {
            v = value.startsWith("0x") || value.startsWith("0X") ? Long.parseLong(value.substring(2), 16) : Long.parseLong(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new FlowSyntaxException(line, column, what + ": '" + value + "' is not a number");
        }
        if (v < min || v > max)
        {
            throw new FlowSyntaxException(line, column, what + " must be " + min + "-" + max + ", got " + v);
        }
        return (int)v;
    }

    static long[] valueMask(final String value, final long max, final int line, final int column, final String what)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, what + " needs a value");
        }
        final int slash = value.indexOf('/');
        final long v = number(slash < 0 ? value : value.substring(0, slash), 0, max, line, column, what) & max;
        final long mask = slash < 0 ? max
            : number(value.substring(slash + 1), 0, max, line, column + slash + 1, what + " mask") & max;
        return new long[] { v & mask, mask };
    }

    static long[] ipv4Cidr(final String value, final int line, final int column)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, "address needed");
        }
        final int slash = value.indexOf('/');
        final long addr = ipv4(slash < 0 ? value : value.substring(0, slash), line, column);
        long mask = 0xFFFF_FFFFL;
        if (slash >= 0)
        {
            final String m = value.substring(slash + 1);
            if (m.contains("."))
            {
                mask = ipv4(m, line, column + slash + 1);
            }
            else
            {
                final int len = number(m, 0, 32, line, column + slash + 1, "prefix length");
                mask = len == 0 ? 0 : (0xFFFF_FFFFL << (32 - len)) & 0xFFFF_FFFFL;
            }
        }
        return new long[] { addr & mask, mask };
    }

    static long ipv4(final String text, final int line, final int column)
    {
        final String[] parts = text.split("\\.", -1);
        if (parts.length != 4)
        {
            throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv4 address");
        }
        long v = 0;
        for (final String p : parts)
        {
            final int octet;
            try
            {
                octet = Integer.parseInt(p);
            }
            catch (final NumberFormatException ex)
            {
                throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv4 address");
            }
            if (octet < 0 || octet > 255 || p.length() > 3)
            {
                throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv4 address");
            }
            v = v << 8 | octet;
        }
        return v;
    }

    static long[] ipv6Cidr(final String value, final int line, final int column)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, "address needed");
        }
        final int slash = value.indexOf('/');
        final String text = slash < 0 ? value : value.substring(0, slash);
        final int len = slash < 0 ? 128 : number(value.substring(slash + 1), 0, 128, line, column + slash + 1, "prefix length");
        long hi;
        long lo;
        try
        {
            final InetAddress a = text.indexOf(':') >= 0 ? InetAddress.getByName(text) : null;
            if (!(a instanceof Inet6Address) && !(a instanceof Inet4Address))
            {
                throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv6 address");
            }
            byte[] b = a.getAddress();
            if (b.length == 4)
            {
                final byte[] mapped = new byte[16];
                mapped[10] = (byte)0xFF;
                mapped[11] = (byte)0xFF;
                System.arraycopy(b, 0, mapped, 12, 4);
                b = mapped;
            }
            hi = 0;
            lo = 0;
            for (int i = 0; i < 8; i++)
            {
                hi = hi << 8 | (b[i] & 0xFF);
                lo = lo << 8 | (b[8 + i] & 0xFF);
            }
        }
        catch (final java.net.UnknownHostException ex)
        {
            throw new FlowSyntaxException(line, column, "'" + text + "' is not an IPv6 address");
        }
        final long maskHi = len >= 64 ? -1L : len == 0 ? 0 : -1L << (64 - len);
        final long maskLo = len <= 64 ? 0 : len == 128 ? -1L : -1L << (128 - len);
        return new long[] { hi & maskHi, lo & maskLo, maskHi, maskLo };
    }

    static long[] label(final String value, final int line, final int column)
    {
        if (value == null || value.isEmpty())
        {
            throw new FlowSyntaxException(line, column, "ct_label needs a value");
        }
        final int slash = value.indexOf('/');
        final long[] v = hex128(slash < 0 ? value : value.substring(0, slash), line, column);
        final long[] m = slash < 0 ? new long[] { -1L, -1L } : hex128(value.substring(slash + 1), line, column + slash + 1);
        return new long[] { v[0] & m[0], v[1] & m[1], m[0], m[1] };
    }

    /** A number up to 128 bits, decimal or 0x-hex: {lo, hi}. */
    static long[] hex128(final String text, final int line, final int column)
    {
        try
        {
            final java.math.BigInteger v = text.startsWith("0x") || text.startsWith("0X")
                ? new java.math.BigInteger(text.substring(2), 16) : new java.math.BigInteger(text);
            if (v.signum() < 0 || v.bitLength() > 128)
            {
                throw new FlowSyntaxException(line, column, "'" + text + "' does not fit 128 bits");
            }
            return new long[] { v.longValue(), v.shiftRight(64).longValue() };
        }
        catch (final NumberFormatException ex)
        {
            throw new FlowSyntaxException(line, column, "'" + text + "' is not a number");
        }
    }
}
