//! The exported `forward` and `forward_batch` allocate nothing: a counting global allocator
//! sees no allocation on this thread across calls of every exported model.

#[path = "../../tests/support/counting_allocator.rs"]
mod counting_allocator;

use counting_allocator::allocations;
use staticnn_export_check::{
    binary_classifier, binary_classifier_int8, cnn, embedding, mlp, mlp_int8, windows,
};

#[test]
fn exported_forward_allocates_nothing() {
    // Buffers made before counting starts: the caller owns them.
    let mut out = [0.0f32; 440];
    let inputs = [0.25f32; 440];
    let before = allocations();
    let mut sink = 0.0f32;
    for i in 0..100 {
        let v = i as f32 * 0.1 - 5.0;
        sink += binary_classifier::forward(&[v, -v])[0];
        sink += binary_classifier_int8::forward(&[v, -v])[0];
        sink += mlp::forward(&[v; 8])[0];
        sink += mlp_int8::forward(&[v; 8])[0];
        sink += cnn::forward(&[v; 64])[0];
        sink += windows::forward(&[v; 220])[0];
        sink += embedding::forward(&[(i % 20) as f32, 1.0, 2.0, 3.0, f32::NAN])[0];
        binary_classifier::forward_batch(&inputs[..8], &mut out).unwrap();
        binary_classifier_int8::forward_batch(&inputs[..8], &mut out).unwrap();
        mlp::forward_batch(&inputs[..32], &mut out).unwrap();
        cnn::forward_batch(&inputs[..128], &mut out).unwrap();
        embedding::forward_batch(&inputs[..10], &mut out).unwrap();
        windows::forward_batch(&inputs[..440], &mut out).unwrap();
        sink += out[0];
    }
    let made = allocations() - before;
    std::hint::black_box(sink);
    assert_eq!(made, 0, "the exported forward allocated {made} times");
}
