package io.ctrack.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench zones} on small counts: Open vSwitch's table of four rows, after the warm-up it was asked for (a count
 * of iterations, none, or by default seconds of them).
 */
@Timeout(120)
class BenchZonesTest
{
    private static final Pattern WARMUP = Pattern.compile("^warm-up: (\\d+) untimed iterations in (\\d+) ms$",
        Pattern.MULTILINE);
    private static final Pattern ROW = Pattern.compile(
        "^\\| (Min   |Max   |95%ile|Avg   ) \\| +[0-9.]+ us \\| +[0-9.]+ us \\| +[0-9.]+ us \\| +[0-9.]+ us \\|$",
        Pattern.MULTILINE);

    @Test
    void shouldPrintOpenVswitchsTableAfterTheWarmUpItWasAskedFor()
    {
        final ReplayCommandTest.Result r = run("bench", "zones", "40", "3", "4", "--warmup", "7", "--buckets", "2");

        assertEquals(0, r.exitCode(), r.err());
        final Matcher warmup = WARMUP.matcher(r.out());
        assertTrue(warmup.find(), r.out());
        assertEquals("7", warmup.group(1), r.out());
        final Matcher row = ROW.matcher(r.out());
        for (final String name : new String[] { "Min   ", "Max   ", "95%ile", "Avg   " })
        {
            assertTrue(row.find(), name + " row missing: " + r.out());
            assertEquals(name, row.group(1));
        }
    }

    @Test
    void shouldWarmUpForSecondsByDefault()
    {
        final ReplayCommandTest.Result r = run("bench", "zones", "20", "2", "1", "--buckets", "1");

        assertEquals(0, r.exitCode(), r.err());
        final Matcher warmup = WARMUP.matcher(r.out());
        assertTrue(warmup.find(), r.out());
        assertTrue(Integer.parseInt(warmup.group(1)) >= 200, r.out());
        assertTrue(Long.parseLong(warmup.group(2)) >= 3_000, r.out());
    }

    @Test
    void shouldTimeAColdStartWithoutWarmUp()
    {
        final ReplayCommandTest.Result r = run("bench", "zones", "20", "2", "1", "--warmup", "0", "--buckets", "1");

        assertEquals(0, r.exitCode(), r.err());
        assertTrue(!WARMUP.matcher(r.out()).find(), r.out());
        assertTrue(ROW.matcher(r.out()).find(), r.out());
    }
}
