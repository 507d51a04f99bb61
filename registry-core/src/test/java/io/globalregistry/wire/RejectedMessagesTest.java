package io.globalregistry.wire;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class RejectedMessagesTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final List<Object[]> warnings = new ArrayList<>();
    private final RejectedMessages rejected = new RejectedMessages(now::get, recordingLogger());

    @Test
    void countsByReason() {
        rejected.record(RejectReason.TOO_LARGE, "a");
        rejected.record(new RejectedMessageException(RejectReason.TOO_LARGE, "b"));
        rejected.record(RejectReason.WRONG_CLUSTER, "c");

        assertThat(rejected.count(RejectReason.TOO_LARGE)).isEqualTo(2);
        assertThat(rejected.count(RejectReason.WRONG_CLUSTER)).isEqualTo(1);
        assertThat(rejected.count(RejectReason.MALFORMED_BODY)).isZero();
        assertThat(rejected.total()).isEqualTo(3);
        assertThat(rejected.counts()).containsEntry(RejectReason.TOO_LARGE, 2L).hasSize(RejectReason.values().length);
    }

    @Test
    void logsAtMostOneLinePerReasonPerTenSecondsWithTheCountSinceTheLastLine() {
        rejected.record(RejectReason.MALFORMED_BODY, "first");
        for (int i = 0; i < 99; i++) {
            now.addAndGet(TimeUnit.MILLISECONDS.toNanos(50));
            rejected.record(RejectReason.MALFORMED_BODY, "more " + i);
        }
        rejected.record(RejectReason.UNKNOWN_TYPE, "other reason logs at once");
        assertThat(warnings).hasSize(2);
        assertThat(warnings.get(0)[0]).isEqualTo(1L);

        now.addAndGet(TimeUnit.SECONDS.toNanos(10));
        rejected.record(RejectReason.MALFORMED_BODY, "after ten seconds");
        assertThat(warnings).hasSize(3);
        assertThat(warnings.get(2)[0]).isEqualTo(100L);
        assertThat(warnings.get(2)[2]).isEqualTo("after ten seconds");
    }

    private Logger recordingLogger() {
        return (Logger) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Logger.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("warn") && args != null && args.length == 2
                            && args[1] instanceof Object[]) {
                        warnings.add((Object[]) args[1]);
                    }
                    return method.getReturnType() == boolean.class ? Boolean.FALSE : null;
                });
    }
}
