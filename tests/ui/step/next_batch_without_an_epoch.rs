// The habit of a loader that restarts itself: batches taken without starting an epoch, which
// would give the second and later epochs no batch at all.
use staticnn::prelude::*;

fn main() {
    let data = Dataset::new(Batch::from_rows(&[[1.0f32], [2.0]]), vec![0usize, 1]).unwrap();
    let mut loader = DataLoader::new(&data, 1).unwrap();
    while let Some((_x, _y)) = loader.next_batch() {}
}
