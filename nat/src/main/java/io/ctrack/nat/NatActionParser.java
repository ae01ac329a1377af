package io.ctrack.nat;

import io.ctrack.engine.nat.NatSpec;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * Parses the {@code nat} action in Open vSwitch's syntax ({@code ovs-actions(7)}, {@code ofp-actions.c}'s
 * {@code parse_NAT}):
 * <pre>
 *   nat
 *   nat(src=ADDR[-ADDR][:PORT[-PORT]][,random|hash][,persistent])
 *   nat(dst=...)
 * </pre>
 * IPv6 addresses may be written in brackets (needed before a port range: {@code [2001:db8::1]-[2001:db8::9]:80}).
 * {@code src} or {@code dst} without a range translates ports only. The argument list may also be given without
 * {@code nat(...)} around it ({@code src=10.0.0.1}). Errors are Open vSwitch's, with the position of the problem.
 */
public final class NatActionParser
{
    private NatActionParser()
    {
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException naming what is wrong and where.
     */
    public static NatSpec parse(final String text)
    {
        String s = text.trim();
        if (s.equals("nat") || s.isEmpty())
        {
            return NatSpec.PLAIN;
        }
        if (s.startsWith("nat(") && s.endsWith(")"))
        {
            s = s.substring(4, s.length() - 1).trim();
        }
        else if (s.startsWith("nat"))
        {
            throw new IllegalArgumentException("invalid nat action \"" + text + "\": expected nat or nat(...)");
        }
        Boolean source = null;
        Range range = null;
        int flags = 0;
        for (final String part : splitTopLevel(s))
        {
            final String item = part.trim();
            final int eq = item.indexOf('=');
            final String key = eq < 0 ? item : item.substring(0, eq).trim();
            final String value = eq < 0 ? "" : item.substring(eq + 1).trim();
            switch (key)
            {
                case "src":
                case "dst":
                    if (source != null)
                    {
                        throw new IllegalArgumentException("May only specify one of \"src\" or \"dst\".");
                    }
                    source = key.equals("src");
                    range = parseRange(value);
                    break;
                case "persistent":
                    flags |= NatSpec.FLAG_PERSISTENT;
                    break;
                case "hash":
                    flags |= NatSpec.FLAG_HASH;
                    break;
                case "random":
                    flags |= NatSpec.FLAG_RANDOM;
                    break;
                default:
                    throw new IllegalArgumentException("invalid key \"" + key + "\" in \"nat\" argument");
            }
        }
        if (source == null)
        {
            if (flags != 0)
            {
                throw new IllegalArgumentException("Flags allowed only with \"src\" or \"dst\".");
            }
            return NatSpec.PLAIN;
        }
        if ((flags & (NatSpec.FLAG_HASH | NatSpec.FLAG_RANDOM)) == (NatSpec.FLAG_HASH | NatSpec.FLAG_RANDOM))
        {
            throw new IllegalArgumentException("Both \"hash\" and \"random\" are not allowed.");
        }
        return NatSpec.of(source, range.ipv6, range.minHi, range.minLo, range.maxHi, range.maxLo, range.minPort,
            range.maxPort, flags);
    }

    private record Range(boolean ipv6, long minHi, long minLo, long maxHi, long maxLo, int minPort, int maxPort)
    {
    }

    /** Open vSwitch's {@code str_to_nat_range}. */
    private static Range parseRange(final String s)
    {
        if (s.isEmpty())
        {
            return new Range(false, 0, 0, 0, 0, 0, 0);
        }
        final Cursor c = new Cursor(s);
        final long[] min = c.address();
        if (min == null)
        {
            throw new IllegalArgumentException("invalid nat range \"" + s + "\"");
        }
        long[] max = min;
        if (c.peek() == '-')
        {
            c.pos++;
            max = c.address();
            if (max == null || (max[2] != min[2])
                || Long.compareUnsigned(max[0], min[0]) < 0 || (max[0] == min[0] && Long.compareUnsigned(max[1], min[1]) < 0))
            {
                throw new IllegalArgumentException("invalid nat range \"" + s + "\"");
            }
        }
        int minPort = 0;
        int maxPort = 0;
        if (c.peek() == ':')
        {
            c.pos++;
            minPort = c.port();
            maxPort = minPort;
            if (minPort < 0)
            {
                throw new IllegalArgumentException("invalid nat range \"" + s + "\"");
            }
            if (c.peek() == '-')
            {
                c.pos++;
                maxPort = c.port();
                if (maxPort < 0 || maxPort < minPort)
                {
                    throw new IllegalArgumentException("invalid nat range \"" + s + "\"");
                }
            }
            if (minPort == 0)
            {
                throw new IllegalArgumentException("invalid nat range \"" + s + "\": port 0");
            }
        }
        if (c.pos != s.length())
        {
            throw new IllegalArgumentException("garbage (" + s.substring(c.pos) + ") after nat range \"" + s
                + "\" (pos: " + c.pos + ")");
        }
        return new Range(min[2] == 1, min[0], min[1], max[0], max[1], minPort, maxPort);
    }

    /** Splits on commas that are not inside brackets. */
    private static java.util.List<String> splitTopLevel(final String s)
    {
        final java.util.List<String> parts = new java.util.ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++)
        {
            final char ch = s.charAt(i);
            if (ch == '[')
            {
                depth++;
            }
            else if (ch == ']')
            {
                depth--;
            }
            else if (ch == ',' && depth == 0)
            {
                parts.add(s.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(s.substring(start));
        return parts;
    }

    private static final class Cursor
    {
        final String s;
        int pos;

        Cursor(final String s)
        {
            this.s = s;
        }

        char peek()
        {
            return pos < s.length() ? s.charAt(pos) : 0;
        }

        /** An address: {hi, lo, 1 if IPv6}, or null. */
        long[] address()
        {
            final String text;
            if (peek() == '[')
            {
                final int close = s.indexOf(']', pos);
                if (close < 0)
                {
                    return null;
                }
                text = s.substring(pos + 1, close);
                pos = close + 1;
                return ipv6(text);
            }
            int end = pos;
            while (end < s.length() && (Character.isDigit(s.charAt(end)) || s.charAt(end) == '.'))
            {
                end++;
            }
            if (end > pos && (end == s.length() || s.charAt(end) != ':' || s.indexOf('.', pos) >= 0 && s.indexOf('.', pos) < end))
            {
                final long[] v4 = ipv4(s.substring(pos, end));
                if (v4 != null)
                {
                    pos = end;
                    return v4;
                }
            }
            // An unbracketed IPv6 address: everything up to '-' (a range) or the end.
            end = pos;
            while (end < s.length() && s.charAt(end) != '-' && s.charAt(end) != ',')
            {
                end++;
            }
            final long[] v6 = ipv6(s.substring(pos, end));
            if (v6 != null)
            {
                pos = end;
            }
            return v6;
        }

        int port()
        {
            final int start = pos;
            while (pos < s.length() && Character.isDigit(s.charAt(pos)))
            {
                pos++;
            }
            if (pos == start || pos - start > 5)
            {
                return -1;
            }
            final int port = Integer.parseInt(s.substring(start, pos));
            return port > 0xFFFF ? -1 : port;
        }

        private static long[] ipv4(final String text)
        {
            final String[] parts = text.split("\\.", -1);
            if (parts.length != 4)
            {
                return null;
            }
            long value = 0;
            for (final String p : parts)
            {
                if (p.isEmpty() || p.length() > 3)
                {
                    return null;
                }
                final int octet = Integer.parseInt(p);
                if (octet > 255)
                {
                    return null;
                }
                value = value << 8 | octet;
            }
            return new long[] { 0, value, 0 };
        }

        private static long[] ipv6(final String text)
        {
            if (text.isEmpty() || text.indexOf(':') < 0 || !text.matches("[0-9A-Fa-f:.]+"))
            {
                return null;
            }
            try
            {
                final InetAddress address = InetAddress.getByName(text);
                final byte[] b;
                if (address instanceof Inet6Address)
                {
                    b = address.getAddress();
                }
                else if (address instanceof Inet4Address)
                {
                    // ::ffff:a.b.c.d comes back as IPv4: keep it as the mapped IPv6 address.
                    b = new byte[16];
                    b[10] = (byte)0xFF;
                    b[11] = (byte)0xFF;
                    System.arraycopy(address.getAddress(), 0, b, 12, 4);
                }
                else
                {
                    return null;
                }
                long hi = 0;
                long lo = 0;
                for (int i = 0; i < 8; i++)
                {
                    hi = hi << 8 | (b[i] & 0xFF);
                    lo = lo << 8 | (b[8 + i] & 0xFF);
                }
                return new long[] { hi, lo, 1 };
            }
            catch (final java.net.UnknownHostException ex)
            {
                return null;
            }
        }
    }
}
