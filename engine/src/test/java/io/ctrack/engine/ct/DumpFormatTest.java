package io.ctrack.engine.ct;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Address and label text in dump lines. The IPv6 expectations were produced by glibc's {@code inet_ntop} (which
 * Open vSwitch's {@code ipv6_format_addr} calls), including its IPv4-compatible and IPv4-mapped forms.
 */
class DumpFormatTest
{
    @ParameterizedTest
    @CsvSource({
        "00000000000000000000000000000000, ::",
        "00000000000000000000000000000001, ::1",
        "00000000000000000000000000000002, ::2",
        "00010000000000000000000000000000, 1::",
        "fe800000000000000000000000000000, fe80::",
        "00000000000000000000ffff01020304, ::ffff:1.2.3.4",
        "00000000000000000000000001020304, ::1.2.3.4",
        "00000000000000000000000000000102, ::102",
        "00000000000000000000ffff00000000, ::ffff:0.0.0.0",
        "00010000000000010000000000000001, 1:0:0:1::1",
        "00010000000100000001000000010000, 1:0:1:0:1:0:1:0",
        "00000000000100000000000000000000, 0:0:1::",
        "00010002000300040005000600070008, 1:2:3:4:5:6:7:8",
        "00010000000200030004000500060007, 1:0:2:3:4:5:6:7",
        "00000001000200030004000500060000, 0:1:2:3:4:5:6:0",
        "fd000200000000000000000000000001, fd00:200::1",
        "20010db8000000000000ffff00000001, 2001:db8::ffff:0:1",
        "00000000000000000000000100000000, ::1:0:0",
        "0000000000000000ffff000001020304, ::ffff:0:102:304",
        "00010000000000000001000000000000, 1::1:0:0:0",
        "00000000000000000000000001000000, ::1.0.0.0",
    })
    void shouldPrintIpv6AddressesAsGlibcInetNtop(final String hex, final String expected)
    {
        final byte[] b = HexFormat.of().parseHex(hex);
        long hi = 0;
        long lo = 0;
        for (int i = 0; i < 8; i++)
        {
            hi = hi << 8 | (b[i] & 0xFF);
            lo = lo << 8 | (b[8 + i] & 0xFF);
        }
        final StringBuilder sb = new StringBuilder();
        DumpFormat.appendIpv6(sb, hi, lo);
        assertEquals(expected, sb.toString());
    }

    @ParameterizedTest
    @CsvSource({
        "0, 1, 0x1",
        "0, 171, 0xab",
        "16, 427, 0x1000000000000001ab",
        "-1, -1, 0xffffffffffffffffffffffffffffffff",
        "1, 0, 0x10000000000000000",
    })
    void shouldPrintLabelsAsHexWithoutLeadingZeros(final long hi, final long lo, final String expected)
    {
        assertEquals(expected, DumpFormat.labelHex(hi, lo));
    }
}
