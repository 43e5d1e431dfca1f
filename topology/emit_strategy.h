#pragma once

// When a windowed aggregation emits (Kafka Streams' EmitStrategy): on every
// update (the default) or only each window's final result, when it closes.
//
//   .windowed_by(eddy::time_windows::of_size_with_no_grace(1min))
//   .emit_strategy(eddy::emit_strategy::on_window_close())
//   .count();

namespace eddy {

class emit_strategy {
public:
    static emit_strategy on_window_update() { return emit_strategy(false); }
    static emit_strategy on_window_close() { return emit_strategy(true); }
    bool on_close() const noexcept { return _on_close; }

private:
    explicit emit_strategy(bool on_close) : _on_close(on_close) {}
    bool _on_close;
};

} // namespace eddy
