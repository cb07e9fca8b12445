/** A manifest file's text: the namespace default and in it the Service web (http, 80/TCP) at clusterIP. */
export const webServiceManifest = (clusterIP: string): string => `apiVersion: v1
kind: Namespace
metadata: {name: default}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: ${clusterIP}
  ports: [{name: http, port: 80, protocol: TCP}]
`;
