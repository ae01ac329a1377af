package io.ctrack.engine;

import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.table.ConnTableConfig;

import io.ctrack.engine.testing.Corpus;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every capture of the reference corpus, and of the project's differential captures, replayed through the engine
 * exactly as {@code ctrack replay FILE --batch N} does it (commit, zone 0, batches of N, the wall clock per batch),
 * compared line by line with what Open vSwitch printed for it ({@code expected/FILE.ovs.txt} for batches of 1,
 * {@code FILE.ovs32.txt} for 32). One test per file and batch size; the reference corpus's tests are skipped, with the
 * path in the reason, when it is absent (the differential captures are part of the project and never skipped).
 */
class CorpusGoldenTest
{
    private static final int[] BATCH_SIZES = { 1, 32 };

    @TestFactory
    List<DynamicTest> shouldGiveEveryPacketOfTheCorpusOpenVswitchsVerdict()
    {
        return goldenTests(Corpus.pcaps());
    }

    @TestFactory
    List<DynamicTest> shouldGiveEveryPacketOfTheDifferentialCapturesOpenVswitchsVerdict()
    {
        final List<Path> pcaps = Corpus.pcaps(Corpus.differentialDir());
        assertTrue(pcaps.size() >= 7, "expected the differential captures, found " + pcaps);
        return goldenTests(pcaps);
    }

    /** Captures whose verdicts depend on time (timeouts), replayed with the capture's clock. */
    @TestFactory
    List<DynamicTest> shouldGiveOpenVswitchsVerdictsWithTheCapturesClock()
    {
        final List<DynamicTest> tests = new ArrayList<>();
        for (final Path pcap : Corpus.pcaps(Corpus.differentialDir()))
        {
            for (final int batch : BATCH_SIZES)
            {
                Corpus.expected(pcap, batch, true).ifPresent(file -> tests.add(DynamicTest.dynamicTest(
                    pcap.getFileName() + " in batches of " + batch + " with the capture's clock",
                    () -> compare(pcap, batch, file, true))));
            }
        }
        assertTrue(tests.size() >= 6, "expected the timeout captures' outputs, found " + tests.size());
        return tests;
    }

    private static List<DynamicTest> goldenTests(final List<Path> pcaps)
    {
        final List<DynamicTest> tests = new ArrayList<>();
        for (final Path pcap : pcaps)
        {
            for (final int batch : BATCH_SIZES)
            {
                final Optional<Path> expected = Corpus.expected(pcap, batch);
                expected.ifPresent(file -> tests.add(DynamicTest.dynamicTest(
                    pcap.getFileName() + " in batches of " + batch, () -> compare(pcap, batch, file, false))));
            }
        }
        return tests;
    }

    @Test
    void shouldHaveAnExpectedOutputForEveryCapture()
    {
        final List<Path> pcaps = Corpus.pcaps();
        assertFalse(pcaps.isEmpty(), "no captures in " + Corpus.location());
        assertEveryCaptureHasAnExpectedOutput(pcaps);
    }

    @Test
    void shouldHaveAnExpectedOutputForEveryDifferentialCapture()
    {
        assertEveryCaptureHasAnExpectedOutput(Corpus.pcaps(Corpus.differentialDir()));
    }

    private static void assertEveryCaptureHasAnExpectedOutput(final List<Path> pcaps)
    {
        for (final Path pcap : pcaps)
        {
            assertTrue(Corpus.expected(pcap, 1).isPresent() || Corpus.expected(pcap, 32).isPresent()
                || Corpus.expected(pcap, 1, true).isPresent() || Corpus.expected(pcap, 32, true).isPresent(),
                pcap + " has no expected output: it would never be checked");
        }
    }

    private static void compare(final Path pcap, final int batch, final Path expectedFile, final boolean captureClock)
        throws Exception
    {
        final List<String> expected = Corpus.readLines(expectedFile);
        final List<String> actual = Corpus.replay(
            new Conntrack(ConnTableConfig.of(0, 4096), FragConfig.DEFAULT), pcap, batch, captureClock);
        if (expected.equals(actual))
        {
            return;
        }
        final StringBuilder diff = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < Math.max(expected.size(), actual.size()) && shown < 20; i++)
        {
            final String e = i < expected.size() ? expected.get(i) : "(none)";
            final String a = i < actual.size() ? actual.get(i) : "(none)";
            if (!e.equals(a))
            {
                diff.append("\n  expected ").append(e).append(", got ").append(a);
                shown++;
            }
        }
        fail(pcap.getFileName() + " in batches of " + batch + ": " + actual.size() + " lines, Open vSwitch printed "
            + expected.size() + "; first differences:" + diff);
    }
}
