// segearth-torch: every command, in the binary that links libtorch. Users run `segearth`, which
// hands it the commands that need the models (main.cpp); it is installed in libexec.
#include "command_eval.hpp"
#include "command_eval_dataset.hpp"
#include "command_info.hpp"
#include "command_main.hpp"
#include "command_merge.hpp"
#include "command_segment.hpp"
#include "command_train.hpp"
#include "command_vectorize.hpp"

#include <segearth/core/blas_runtime.hpp>

int main(int argc, char** argv) {
    using namespace segearth::cli;
    segearth::core::select_blas_core_type(argv);
    return command_main(argc, argv,
                        {&segment_command, &merge_command, &vectorize_command, &eval_command, &eval_dataset_command,
                         &train_command, &info_command});
}
