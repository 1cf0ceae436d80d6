package dev.isolation.launch;

import com.sun.jna.Memory;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One thread for the ends of all sandboxes: it waits (epoll) on the control sockets of the started ones, reads each
 * helper's exit report when it comes, and hands it over on a pool thread, so that what runs on the end (usage read,
 * cleanup, the caller's own stages) never delays another sandbox's. Without it, each sandbox would need a thread
 * blocked on its socket, as the JDK keeps one per child process.
 */
final class ExitWatcher {
    private static final ExitWatcher INSTANCE = new ExitWatcher();
    private static final int BATCH = 64;

    private final Map<Long, Watched> watched = new ConcurrentHashMap<>();
    private final AtomicLong tokens = new AtomicLong();
    private final ExecutorService completions = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "isolation-sandbox-exit");
        thread.setDaemon(true);
        return thread;
    });
    private volatile int epollFd = -1;

    private record Watched(ControlChannel channel, Consumer<ControlChannel.Report> atOnce,
            Consumer<ControlChannel.Report> onEnd) {
    }

    private ExitWatcher() {
    }

    /**
     * Calls {@code atOnce} and then {@code onEnd} once with the helper's exit report, or with null if it ended
     * without one (it was killed), and closes the channel. {@code atOnce} runs on the watcher's own thread, as soon as
     * the report is read: it must only hand the report over (wake a waiting thread), never block or run stages;
     * {@code onEnd} runs on a pool thread.
     */
    static void watch(ControlChannel channel, Consumer<ControlChannel.Report> atOnce,
            Consumer<ControlChannel.Report> onEnd) throws IOException {
        INSTANCE.add(new Watched(channel, atOnce, onEnd));
    }

    /** The pool that runs what follows each end (threads named isolation-sandbox-exit, at normal priority). */
    static java.util.concurrent.Executor completions() {
        return INSTANCE.completions;
    }

    private void add(Watched watching) throws IOException {
        ControlChannel channel = watching.channel();
        int epoll = started();
        long token = tokens.incrementAndGet();
        watched.put(token, watching);
        try {
            Posix.epollAdd(epoll, channel.fd(), token);
        } catch (IOException e) {
            watched.remove(token);
            throw e;
        }
    }

    private synchronized int started() throws IOException {
        if (epollFd < 0) {
            epollFd = Posix.epollCreate();
            Thread thread = new Thread(this::run, "isolation-exit-watcher");
            thread.setDaemon(true);
            thread.start();
        }
        return epollFd;
    }

    private void run() {
        long[] ready = new long[BATCH];
        try (Memory events = new Memory((long) BATCH * Posix.EPOLL_EVENT_SIZE)) {
            while (true) {
                int count = Posix.epollWait(epollFd, events, ready);
                for (int i = 0; i < count; i++) {
                    Watched ended = watched.remove(ready[i]);
                    if (ended != null) {
                        finish(ended);
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("the exit watcher of the sandboxes failed", e);
        }
    }

    private void finish(Watched ended) {
        ControlChannel.Report report = readExit(ended.channel());
        Posix.epollRemove(epollFd, ended.channel().fd());
        ended.channel().close();
        ended.atOnce().accept(report);
        completions.execute(() -> ended.onEnd().accept(report));
    }

    private static ControlChannel.Report readExit(ControlChannel channel) {
        try {
            while (true) {
                ControlChannel.Report report = channel.readReport();
                if (report.type() == Wire.REPORT_EXITED) {
                    return report;
                }
            }
        } catch (IOException e) {
            return null; // the helper ended without a report: it was killed
        }
    }
}
