// The one image name and tag of the project: README, docker-compose.yml, the chart's appVersion,
// the kustomize overlays and the release workflow all use it (image-name.test.ts checks them).
export const IMAGE_NAME = 'hapi-hub-cluster';
export const IMAGE_TAG = '0.1.0';
export const IMAGE_NAME_AND_TAG = `${IMAGE_NAME}:${IMAGE_TAG}`;
