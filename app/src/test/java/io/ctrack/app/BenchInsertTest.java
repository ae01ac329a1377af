package io.ctrack.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench insert} on small counts: the warm-up nodes it was asked for, each timed, then every connection
 * inserted into a node of its own.
 */
@Timeout(120)
class BenchInsertTest
{
    private static final Pattern WARMUP = Pattern.compile(
        "^\\(warm-up: (\\d+) connections into each of (\\d+) separate nodes in (\\d+(, \\d+)*) ms, JIT compilation "
            + "included\\)$", Pattern.MULTILINE);

    @Test
    void shouldWarmUpInAsManyNodesAsAskedThenInsertIntoAFreshOne()
    {
        final ReplayCommandTest.Result r = run("bench", "insert", "3000", "1", "--warmup", "500", "--warmup-nodes",
            "2", "--buckets", "2");

        assertEquals(0, r.exitCode(), r.err());
        final Matcher warmup = WARMUP.matcher(r.out());
        assertTrue(warmup.find(), r.out());
        assertEquals("500", warmup.group(1), r.out());
        assertEquals("2", warmup.group(2), r.out());
        assertEquals(2, warmup.group(3).split(", ").length, r.out());
        assertTrue(r.out().contains("inserted 3000 connections in "), r.out());
        assertTrue(r.out().contains("connections in the node afterwards: 3000"), r.out());
        assertFalse(r.out().contains("WARNING"), r.out());
    }

    @Test
    void shouldTimeAColdStartWithoutWarmUp()
    {
        final ReplayCommandTest.Result r = run("bench", "insert", "1000", "1", "--warmup", "0", "--buckets", "1");

        assertEquals(0, r.exitCode(), r.err());
        assertFalse(WARMUP.matcher(r.out()).find(), r.out());
        assertTrue(r.out().contains("connections in the node afterwards: 1000"), r.out());
    }

    @Test
    void shouldRefuseNoWarmUpNode()
    {
        final ReplayCommandTest.Result r = run("bench", "insert", "1000", "1", "--warmup-nodes", "0");

        assertEquals(2, r.exitCode(), r.out());
        assertTrue(r.err().contains("--warmup-nodes must be at least 1"), r.err());
    }
}
