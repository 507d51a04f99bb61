package io.globalregistry.sample.app;

import io.globalregistry.CallTimeoutException;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.OwnerBusyException;
import io.globalregistry.sample.app.SequenceService.SequenceValue;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /demo/next}: the same answer on every node, served by the sequence's owner. */
@RestController
public class DemoController {

    private final SequenceService sequence;

    public DemoController(SequenceService sequence) {
        this.sequence = sequence;
    }

    /** {@code {"value": 7, "servedBy": "node-2"}}. */
    @GetMapping("/demo/next")
    public SequenceValue next() {
        return sequence.next();
    }

    /** No owner appeared or answered within {@code global-registry.call-timeout}, or it was busy: try again later. */
    @ExceptionHandler({NoSuchNameException.class, CallTimeoutException.class, OwnerBusyException.class})
    public ResponseEntity<Map<String, String>> unavailable(RuntimeException e) {
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).body(Map.of("error", String.valueOf(e.getMessage())));
    }
}
