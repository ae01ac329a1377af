package io.ctrack.app;

import io.ctrack.app.dpctl.AdminServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code ctrack run} as a user runs it: with a config file it starts a node, answers dpctl on its admin port, stops
 * after {@code --for} seconds and leaves nothing in /dev/shm; a bad value in the configuration is one line naming
 * the key, exit code 2.
 */
@Timeout(60)
class RunCommandTest
{
    private static final AtomicInteger NEXT_NODE = new AtomicInteger();

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            return socket.getLocalPort();
        }
    }

    private static String nodeName()
    {
        return "run-test-" + ProcessHandle.current().pid() + "-" + NEXT_NODE.incrementAndGet();
    }

    private static Path aeronDir(final String nodeName)
    {
        return Path.of("/dev/shm").resolve("ctrack-" + nodeName + "-" + ProcessHandle.current().pid());
    }

    private static Path config(final Path dir, final String body) throws IOException
    {
        return Files.writeString(dir.resolve("node-" + NEXT_NODE.incrementAndGet() + ".conf"), body);
    }

    @Test
    void shouldRunAnswerDpctlAndStopCleanly(@TempDir final Path dir) throws Exception
    {
        final int port = freePort();
        final String name = nodeName();
        final Path file = config(dir, "ctrack {\n  node-name = \"" + name + "\"\n  buckets = 2\n"
            + "  admin.port = " + port + "\n}\n");

        org.slf4j.LoggerFactory.getILoggerFactory();
        final PrintStream oldOut = System.out;
        final PrintStream oldErr = System.err;
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final List<String> answer = new ArrayList<>();
        final int exitCode;
        final ReplayCommandTest.Result dpctl;
        synchronized (ReplayCommandTest.class)
        {
            try
            {
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                final CompletableFuture<Integer> run = CompletableFuture.supplyAsync(
                    () -> Main.run("run", "--config", file.toString(), "--for", "2"));
                awaitAnswer(port, answer, run);
                // The same through the command line, while the node still runs.
                dpctl = runDpctl(port, "ct-get-maxconns");
                exitCode = run.get(30, TimeUnit.SECONDS);
            }
            finally
            {
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
        }

        final String stdout = out.toString(StandardCharsets.UTF_8);
        final String stderr = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, exitCode, stderr);
        assertEquals(List.of("0"), answer);
        assertEquals(0, dpctl.exitCode(), dpctl.err());
        assertTrue(stdout.contains("ctrack node '" + name + "' running: 2 buckets"), stdout);
        assertTrue(stdout.contains("admin on 127.0.0.1:" + port), stdout);
        assertTrue(stdout.contains("3000000"), "dpctl's answer: " + stdout);
        assertTrue(stdout.contains("ctrack node '" + name + "' stopping"), stdout);
        assertEquals("", stderr);
        assertFalse(Files.exists(aeronDir(name)), "Aeron directory left behind: " + aeronDir(name));

        // Stopped: nothing answers any more.
        final ReplayCommandTest.Result after = ReplayCommandTest.run("dpctl", "--port", Integer.toString(port),
            "ct-get-nconns");
        assertEquals(2, after.exitCode());
        assertTrue(after.err().contains("no ctrack node answers on 127.0.0.1:" + port), after.err());
    }

    /** Asks for {@code ct-get-nconns} until the node answers (it is still starting), or the run ends. */
    private static void awaitAnswer(final int port, final List<String> answer, final CompletableFuture<Integer> run)
        throws IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true)
        {
            try
            {
                final String error = AdminServer.call("127.0.0.1", port, List.of("ct-get-nconns"), answer::add);
                assertEquals(null, error);
                return;
            }
            catch (final ConnectException ex)
            {
                if (run.isDone() || System.nanoTime() - deadline > 0)
                {
                    fail("the node never answered on port " + port + " (run finished: " + run.isDone() + ")");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
        }
    }

    /** {@code Main.run("dpctl", ...)} with the streams as they are (captured by the caller). */
    private static ReplayCommandTest.Result runDpctl(final int port, final String... args)
    {
        final List<String> all = new ArrayList<>(List.of("dpctl", "--port", Integer.toString(port)));
        all.addAll(List.of(args));
        return new ReplayCommandTest.Result(Main.run(all.toArray(new String[0])), "", "");
    }

    private static void assertOneLineError(final Path file, final String expected)
    {
        final ReplayCommandTest.Result result = ReplayCommandTest.run("run", "--config", file.toString(), "--for", "1");
        assertEquals(2, result.exitCode(), "out: " + result.out() + " err: " + result.err());
        assertEquals(1, result.err().lines().count(), result.err());
        assertTrue(result.err().startsWith("ctrack run: "), result.err());
        assertTrue(result.err().contains(expected), "expected '" + expected + "' in " + result.err());
    }

    @Test
    void shouldRefuseBadNodeSettingsInOneLine(@TempDir final Path dir) throws IOException
    {
        final String name = nodeName();
        assertOneLineError(config(dir, "ctrack.buckets = 3\nctrack.node-name = " + name),
            "ctrack.buckets must be a power of two from 1 to 1024, got 3");
        assertOneLineError(config(dir, "ctrack.node-name = \"no spaces please\""), "ctrack.node-name");
        assertOneLineError(config(dir, "ctrack.aeron.driver-threading = dedicated\nctrack.node-name = " + name),
            "ctrack.aeron.driver-threading must be 'invoker' or 'shared', got 'dedicated'");
        assertOneLineError(config(dir, "ctrack.expiry.slot = soon\nctrack.node-name = " + name), "expiry.slot");
        assertOneLineError(config(dir, "ctrack.bucket-threads = 0\nctrack.node-name = " + name), "bucket threads");
        assertOneLineError(config(dir, "ctrack.bucket-help = sometimes\nctrack.node-name = " + name),
            "ctrack.bucket-help: bucket help must be auto, on or off, got 'sometimes'");
        assertOneLineError(config(dir, "ctrack.aeron.mtu = 256k\nctrack.node-name = " + name),
            "the MTU (262144) must be a multiple of 32 from 1024 to an eighth of the term length (1048576 / 8 = 131072");
        assertOneLineError(config(dir, "ctrack.aeron.mtu = 5000\nctrack.node-name = " + name), "the MTU (5000)");
        assertOneLineError(config(dir, "ctrack { buckets = "), "node-");
        assertOneLineError(dir.resolve("absent.conf"), "no such config file");
        assertFalse(Files.exists(aeronDir(name)));
    }

    @Test
    void shouldRefuseBadSweepAndAdminSettingsInOneLine(@TempDir final Path dir) throws IOException
    {
        final String name = nodeName();
        assertOneLineError(config(dir, "ctrack.sweeper.budget = 0\nctrack.node-name = " + name + "\n"
            + "ctrack.admin.port = " + freePort()), "sweep settings need");
        assertOneLineError(config(dir, "ctrack.admin.host = \"10.1.2.3\"\nctrack.node-name = " + name + "\n"
            + "ctrack.admin.port = " + freePort()), "loopback only");
        assertFalse(Files.exists(aeronDir(name)), "a refused start leaves no Aeron directory");

        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            assertOneLineError(config(dir, "ctrack.node-name = " + name + "\nctrack.admin.port = "
                + taken.getLocalPort()), "is in use");
        }
        assertFalse(Files.exists(aeronDir(name)));
    }

    @Test
    void shouldRefuseAnAdminPortThatIsNotANumberInOneLine(@TempDir final Path dir) throws IOException
    {
        assertOneLineError(config(dir, "ctrack.admin.port = sixteen\nctrack.node-name = " + nodeName()),
            "admin.port");
    }

    @Test
    void shouldRefuseAnAdminHostThatDoesNotResolveInOneLine(@TempDir final Path dir) throws IOException
    {
        final String name = nodeName();
        assertOneLineError(config(dir, "ctrack.admin.host = \"no-such-host.invalid\"\nctrack.node-name = " + name
            + "\nctrack.admin.port = " + freePort()), "no-such-host.invalid");
        assertFalse(Files.exists(aeronDir(name)));
    }
}
