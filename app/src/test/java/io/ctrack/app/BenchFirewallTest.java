package io.ctrack.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench firewall} on small counts: what it reports is what happened. Every flow starts inside, so the
 * classic firewall lets every packet through in both modes; single-pass evaluates every packet's post-ct table in
 * the bucket and commits each flow's first packet there, recirculation evaluates none there.
 */
@Timeout(180)
class BenchFirewallTest
{
    private static final Pattern MODE_LINE = Pattern.compile(
        "^  (recirculate|single-pass) +\\d+ ms .*dropped by the rules (\\d+); post-ct table evaluated where tracked "
            + "(\\d+), committed there (\\d+)(; up to (\\d+) batches in flight)?\\)$", Pattern.MULTILINE);

    @Test
    void shouldReportBothModesOfTheFirewallOnEitherEngine()
    {
        for (final String engine : List.of("embedded", "sharded"))
        {
            final ReplayCommandTest.Result r = run("bench", "firewall", "firewall", "300", "3000", "32", "--warmup",
                "0", "--engine", engine, "--buckets", "2");
            assertEquals(0, r.exitCode(), r.err());
            final Matcher m = MODE_LINE.matcher(r.out());
            assertTrue(m.find(), r.out());
            assertEquals("recirculate", m.group(1));
            assertEquals(List.of("0", "0", "0"), List.of(m.group(2), m.group(3), m.group(4)), r.out());
            assertTrue(m.find(), r.out());
            assertEquals("single-pass", m.group(1));
            assertEquals(List.of("0", "3000", "300"), List.of(m.group(2), m.group(3), m.group(4)), r.out());
            // Through a node, the classic firewall's batches overlap; the embedded engine runs one at a time.
            assertEquals(engine.equals("sharded"), m.group(6) != null, r.out());
            assertTrue(r.out().contains("single-pass / recirculate: "), r.out());
        }
    }

    @Test
    void shouldRefuseAnUnknownEngine()
    {
        final ReplayCommandTest.Result r = run("bench", "firewall", "firewall", "10", "10", "32", "--engine", "x");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--engine must be sharded or embedded"), r.err());
    }
}
