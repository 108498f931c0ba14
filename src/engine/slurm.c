/* The slurm engine: a head VM running slurmctld and munged, and N compute
 * VMs running slurmd (DESIGN.md "Clusters"). */
#include "cloud/provider.h"
#include "engine/engine.h"

const struct engine engine_slurm = {
	.name = "slurm",
	.label = "cluster (slurm)",
	.summary = "a head VM and N compute VMs running a Slurm job array",
	.cloud = true,
	.nodes = true,
	.blocks = 1u << CLOUD_BLOCK_BASE | 1u << CLOUD_BLOCK_HEAD |
	    1u << CLOUD_BLOCK_FLEET,
	.os = "debian-12",
};
