# Source me: puts the venv and the colcon workspace on the environment.
# Usage: source scripts/env.sh
_VLA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VIRTUAL_ENV="$_VLA_ROOT/.venv"
export PATH="$VIRTUAL_ENV/bin:$PATH"
export AMENT_PREFIX_PATH="${AMENT_PREFIX_PATH:-$VIRTUAL_ENV}"
export CMAKE_PREFIX_PATH="${CMAKE_PREFIX_PATH:-$VIRTUAL_ENV}"
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
# Keep DDS discovery on this host.
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
export MUJOCO_GL="${MUJOCO_GL:-egl}"
# Large camera samples stay in shared memory (see config/fastdds_shm.xml).
export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$_VLA_ROOT/config/fastdds_shm.xml}"
# shellcheck disable=SC1091
[ -f "$_VLA_ROOT/install/local_setup.bash" ] && source "$_VLA_ROOT/install/local_setup.bash"
# `vla-ros`, `mujoco_sim`, `vla_policy`, ... on PATH (colcon puts them in lib/vla_ros, where
# `ros2 run` looks; ros2cli is not installable here).
case ":$PATH:" in
  *":$_VLA_ROOT/install/vla_ros/lib/vla_ros:"*) ;;
  *) export PATH="$_VLA_ROOT/install/vla_ros/lib/vla_ros:$PATH" ;;
esac
unset _VLA_ROOT
