// upload_to_cuda in a build without the CUDA backend (BENTOV_CUDA off).
#include "bentov/error.h"
#include "device_model.h"

namespace bentov {

std::unique_ptr<DeviceModel> upload_to_cuda(const ModelConfig&, std::shared_ptr<const ModelWeights>, int,
                                            const std::string&, ComputeDtype) {
  throw UnsupportedError("this bentov was built without the CUDA backend",
                         "rebuild with the CUDA toolkit installed (cmake -DBENTOV_CUDA=ON), or use --device cpu");
}

}  // namespace bentov
